"""What the operator observed -> the CopilotProxy's status and the events worth telling.

Pure functions: handlers gather an Observation, these decide conditions,
reasons and messages. Messages never carry a token or a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from copilot_proxy.core import catalogue as cat
from copilot_proxy.core import names
from copilot_proxy.core.app_failures import MINTED

READY, TOKEN_READY, CONFIG_READY, PROXY_AVAILABLE, MODELS_AVAILABLE = (
    "Ready",
    "TokenReady",
    "ConfigReady",
    "ProxyAvailable",
    "ModelsAvailable",
)
CREDENTIAL_READY = "CredentialReady"
TOKEN_SECRET_NOT_ALLOWED = "TokenSecretNotAllowed"


@dataclass(frozen=True)
class Observation:
    name: str
    namespace: str
    generation: int
    config_error: str = ""  # "spec.<field>: <what to fix>" when the spec cannot be served
    config_hash: str = ""
    token_secret: str = ""
    token_present: bool = False
    token_login: str = ""
    token_updated_at: str = ""
    replicas: int = 0
    ready_replicas: int = 0
    login_hint: str = ""
    # Why the named token Secret is not used (not this proxy's); '' when it may be.
    token_refused: str = ""
    # A child's name is taken by an object this proxy does not own: what to do.
    conflict: str = ""
    # The account's catalogue: the observation in use (fresh or kept), and the last attempt.
    catalogue: cat.Catalogue | None = None
    catalogue_error: str = ""
    catalogue_checked_at: str = ""
    served: tuple[str, ...] = ()  # the chain's models, then the embedding models
    web_base: str = "https://github.com"  # where the account's settings pages are
    # A GitHub App proxy: status.credential (core/credential.status_credential; None for the
    # device flow) and CredentialReady: Minted, or a failure's reason and what to do.
    credential: dict[str, Any] | None = None
    credential_reason: str = ""
    credential_message: str = ""


def _cond(kind: str, ok: bool | None, reason: str, message: str) -> dict[str, str]:
    """A condition; `ok` None: Unknown."""
    status = "Unknown" if ok is None else ("True" if ok else "False")
    return {"type": kind, "status": status, "reason": reason, "message": message}


def conditions(obs: Observation) -> list[dict[str, str]]:
    login = obs.login_hint or (
        "port-forward to the copilot-proxy auth service and open http://localhost:4001/github"
    )
    if obs.config_error:
        config = _cond(CONFIG_READY, False, "InvalidSpec", obs.config_error)
    else:
        config = _cond(CONFIG_READY, True, "Rendered", f"LiteLLM config {obs.config_hash}")
    app = _app_condition(obs)
    if obs.token_refused:
        token = _cond(TOKEN_READY, False, TOKEN_SECRET_NOT_ALLOWED, obs.token_refused)
    elif app is not None and not obs.token_present:
        token = _cond(TOKEN_READY, False, app["reason"], app["message"])
    elif obs.token_present:
        who = f" for {obs.token_login}" if obs.token_login else ""
        token = _cond(
            TOKEN_READY, True, "TokenPresent", f"GitHub token in Secret {obs.token_secret}{who}"
        )
    else:
        token = _cond(
            TOKEN_READY,
            False,
            "WaitingForLogin",
            f"Secret {obs.token_secret} has no GitHub token; to log in, {login}",
        )
    if obs.conflict:
        proxy = _cond(PROXY_AVAILABLE, False, "NameConflict", obs.conflict)
    elif obs.replicas and obs.ready_replicas >= obs.replicas:
        proxy = _cond(
            PROXY_AVAILABLE, True, "PodsReady", f"{obs.ready_replicas}/{obs.replicas} pods ready"
        )
    elif obs.replicas:
        proxy = _cond(
            PROXY_AVAILABLE,
            False,
            "PodsStarting",
            f"{obs.ready_replicas}/{obs.replicas} pods ready",
        )
    else:
        proxy = _cond(PROXY_AVAILABLE, False, "ScaledToZero", "no proxy pods run")
    if config["status"] == "False":
        ready = _cond(READY, False, "InvalidSpec", obs.config_error)
    elif obs.conflict:
        ready = _cond(READY, False, "NameConflict", obs.conflict)
    elif app is not None and app["status"] == "False":
        ready = _cond(READY, False, app["reason"], app["message"])
    elif token["status"] == "False":
        ready = _cond(READY, False, token["reason"], token["message"])
    elif proxy["status"] == "False":
        ready = _cond(READY, False, proxy["reason"], proxy["message"])
    else:
        ready = _cond(
            READY, True, "Serving", f"serving at {names.endpoint(obs.name, obs.namespace)}"
        )
    return [ready, token, config, proxy, models_available(obs), *([app] if app else [])]


def _app_condition(obs: Observation) -> dict[str, str] | None:
    """CredentialReady, for a GitHub App proxy only; Unknown until the first attempt."""
    if obs.credential is None or obs.credential.get("kind") != "GitHubApp":
        return None
    if not obs.credential_reason:
        why = f"the operator mints an installation token into Secret {obs.token_secret}"
        return _cond(CREDENTIAL_READY, None, "Minting", why)
    ok = obs.credential_reason == MINTED
    return _cond(CREDENTIAL_READY, ok, obs.credential_reason, obs.credential_message)


def models_available(obs: Observation) -> dict[str, str]:
    """Does the account's catalogue offer every model served? Unknown while it cannot say."""
    seen = obs.catalogue
    if obs.config_error:
        return _cond(MODELS_AVAILABLE, None, "InvalidSpec", "the spec cannot be served")
    if seen is None:
        if obs.token_refused:
            why = "the account's Copilot catalogue is read once the proxy may use its token Secret"
            return _cond(MODELS_AVAILABLE, None, TOKEN_SECRET_NOT_ALLOWED, why)
        if not obs.token_present:
            why = "the account's Copilot catalogue is read once a GitHub token is present"
            waiting = "WaitingForCredential" if _app_condition(obs) else "WaitingForLogin"
            return _cond(MODELS_AVAILABLE, None, waiting, why)
        why = obs.catalogue_error or "the account's Copilot catalogue was not read yet"
        return _cond(MODELS_AVAILABLE, None, "CatalogueUnknown", why)
    missing = cat.unavailable(seen, obs.served)
    said = (
        cat.describe_unavailable(missing, obs.web_base)
        if missing
        else "every model served is offered and enabled"
    )
    if obs.catalogue_error:
        return _cond(
            MODELS_AVAILABLE,
            None,
            "CatalogueUnreachable",
            f"{obs.catalogue_error} Kept what it said at {seen.observed_at}: {said}",
        )
    if missing:
        return _cond(MODELS_AVAILABLE, False, "ModelsUnavailable", said)
    return _cond(MODELS_AVAILABLE, True, "AllAvailable", f"{said} ({seen.observed_at})")


def build_status(obs: Observation, old: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The new status; a condition keeps its lastTransitionTime until its status changes."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    previous = {c.get("type"): c for c in old.get("conditions") or []}
    conds = []
    for cond in conditions(obs):
        before = previous.get(cond["type"], {})
        same = before.get("status") == cond["status"]
        conds.append(
            {
                **cond,
                "lastTransitionTime": before.get("lastTransitionTime", stamp) if same else stamp,
                "observedGeneration": obs.generation,
            }
        )
    token: dict[str, Any] = {"state": _token_state(obs), "secretName": obs.token_secret}
    if obs.token_present:
        updated = obs.token_updated_at or (old.get("token") or {}).get("updatedAt") or stamp
        token["updatedAt"] = updated
        token["age"] = _age(updated, now)
        if obs.token_login:
            token["login"] = obs.token_login
    status: dict[str, Any] = {
        "observedGeneration": obs.generation,
        "conditions": conds,
        "configHash": obs.config_hash,
        "token": token,
        "endpoint": names.endpoint(obs.name, obs.namespace),
        "masterKeySecret": names.master_key_secret(obs.name),
        "replicas": obs.replicas,
        "readyReplicas": obs.ready_replicas,
        "login": _login(obs, str(conds[1]["message"])),
    }
    if obs.credential is not None:
        status["credential"] = dict(obs.credential)  # the Credential and Account columns
    if obs.catalogue is not None or obs.catalogue_checked_at:
        kept = cat.to_status(obs.catalogue) if obs.catalogue else {}
        status["catalogue"] = {**kept, "checkedAt": obs.catalogue_checked_at}
        if obs.catalogue_error:
            status["catalogue"]["error"] = obs.catalogue_error
    return status


def merge_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new` as a merge patch of `old`: a field a map of `new` no longer has is removed
    (status.credential of a proxy back on the device flow keeps no App fields)."""
    patch = dict(new)
    for key, value in new.items():
        was = old.get(key)
        if isinstance(value, dict) and isinstance(was, dict):
            patch[key] = {**dict.fromkeys(set(was) - set(value)), **value}
    return patch


def _token_state(obs: Observation) -> str:
    if obs.token_refused:
        return "NotAllowed"
    return "Present" if obs.token_present else "Missing"


def _login(obs: Observation, token_message: str) -> str:
    """What to do to get a token in: nothing with one; mark the Secret when it is refused."""
    if obs.token_present:
        return ""
    if obs.token_refused or _app_condition(obs):  # marking the Secret, or the App's fix
        return token_message
    return obs.login_hint or token_message


def transitions(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Events for the changes a user cares about: (type, reason, message)."""
    before = {c.get("type"): c for c in old.get("conditions") or []}
    events = []
    # A new proxy: one event for where it stands, not one per condition.
    conds = new.get("conditions") or []
    for cond in conds if before else conds[:1]:
        was = before.get(cond["type"], {})
        if was.get("status") == cond["status"] and was.get("reason") == cond["reason"]:
            continue
        if cond["type"] == PROXY_AVAILABLE and cond["reason"] == "PodsStarting":
            continue  # Ready's own event says it; one event per transition is enough.
        kind = (
            "Normal" if cond["status"] == "True" or cond["reason"] == "ScaledToZero" else "Warning"
        )
        events.append((kind, cond["reason"], f"{cond['type']}: {cond['message']}"))
    if old.get("configHash") and new.get("configHash") and old["configHash"] != new["configHash"]:
        events.append(
            (
                "Normal",
                "ConfigChanged",
                f"config {old['configHash']} -> {new['configHash']}: rolling proxy pods",
            )
        )
    return events


def _age(stamp: str, now: datetime) -> str:
    try:
        then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    return f"{minutes}m"
