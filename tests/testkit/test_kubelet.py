"""The test kubelet's Secret volume has kubelet's AtomicWriter layout, updated in place."""

from __future__ import annotations

import os
from pathlib import Path

from testkit.kube.kubelet import AtomicWriter


def data_folders(target: Path) -> list[str]:
    return [p.name for p in target.iterdir() if p.name.startswith("..2")]


def test_a_projection_is_links_through_data_to_a_timestamped_folder(tmp_path: Path) -> None:
    writer = AtomicWriter(tmp_path / "token")
    assert writer.write({"access-token": b"ghs_one"})
    target = tmp_path / "token"
    (folder,) = data_folders(target)
    assert os.readlink(target / "..data") == folder
    assert os.readlink(target / "access-token") == "..data/access-token"
    assert (target / "access-token").read_bytes() == b"ghs_one"
    assert writer.swaps == 0


def test_an_update_swaps_the_data_link_in_place(tmp_path: Path) -> None:
    target = tmp_path / "token"
    writer = AtomicWriter(target)
    writer.write({"access-token": b"ghs_one", "old": b"x"})
    inode, (first,) = target.stat().st_ino, data_folders(target)
    assert not writer.write({"access-token": b"ghs_one", "old": b"x"}), "nothing changed"
    assert writer.write({"access-token": b"ghs_two"})
    (second,) = data_folders(target)  # the old folder is gone
    assert second != first and os.readlink(target / "..data") == second
    assert target.stat().st_ino == inode, "the volume's folder itself is never replaced"
    assert (target / "access-token").read_bytes() == b"ghs_two"
    assert not (target / "old").is_symlink(), "a key no longer projected is removed"
    assert not (target / "..data_tmp").exists()
    assert writer.swaps == 1
