"""Gemini rewrites through the `google-genai` SDK (`genai.Client`), with every failure mapped to a plain message.

The API key comes from the caller (a session-only password field) or the environment
(`GEMINI_API_KEY` / `GOOGLE_API_KEY`). It is never written anywhere, and it is scrubbed from every error
message this module raises.
"""

from __future__ import annotations

import os

from core.errors import RewriteError
from core.rewrite.prompts import SYSTEM_INSTRUCTION, user_prompt

DEFAULT_MODEL = "gemini-2.5-flash"
ENV_KEYS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
_HARM_CATEGORIES = ("HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_SEXUALLY_EXPLICIT",
                    "HARM_CATEGORY_DANGEROUS_CONTENT")


def api_key_from_env() -> str | None:
    """The first non-empty key among GEMINI_API_KEY and GOOGLE_API_KEY."""
    return next((os.environ[name].strip() for name in ENV_KEYS if os.environ.get(name, "").strip()), None)


class GeminiRewriter:
    """Ask Gemini for N civil rewrites of a comment.

    Args:
        api_key: the key (required unless `client` is given).
        model: a Gemini model name.
        timeout_s / attempts: per-request timeout, and attempts with exponential backoff (429 and 5xx).
        client: an object with `.models.generate_content(...)` (tests inject a fake).
        client_args: extra arguments for the SDK's HTTP client (tests pass a mock transport).
    """

    def __init__(self, api_key: str | None = None, model: str = DEFAULT_MODEL, timeout_s: float = 30.0,
                 attempts: int = 3, client=None, client_args: dict | None = None):
        self.model = model
        self._secret = api_key or ""
        if client is None:
            if not api_key:
                raise RewriteError("no Gemini API key. Fix: set GEMINI_API_KEY, or paste a key on the Rewrite "
                                   "page (kept for the session only), or use the local rewriter.")
            from google import genai
            from google.genai import types

            options = types.HttpOptions(
                timeout=int(timeout_s * 1000),
                retry_options=types.HttpRetryOptions(attempts=attempts, initial_delay=1.0, max_delay=8.0,
                                                     http_status_codes=[408, 429, 500, 502, 503, 504]),
                client_args=client_args)
            client = genai.Client(api_key=api_key, http_options=options)
        self._client = client

    def _scrub(self, message: str) -> str:
        return message.replace(self._secret, "***") if self._secret else message

    def _config(self, candidates: int):
        from google.genai import types

        return types.GenerateContentConfig(
            system_instruction=SYSTEM_INSTRUCTION, candidate_count=candidates, temperature=0.7,
            max_output_tokens=1024,
            safety_settings=[types.SafetySetting(category=c, threshold="BLOCK_NONE") for c in _HARM_CATEGORIES])

    def rewrite(self, text: str, candidates: int = 3) -> list[str]:
        """Up to `candidates` distinct rewrites of `text`.

        Raises:
            RewriteError: blocked prompt, safety stop, empty answer, auth/quota/network failure (plain message).
        """
        if not text.strip():
            raise RewriteError("nothing to rewrite: the text is empty.")
        try:
            response = self._client.models.generate_content(model=self.model, contents=user_prompt(text),
                                                            config=self._config(candidates))
        except RewriteError:
            raise
        except Exception as exc:  # the SDK raises its own, httpx's and socket errors: map them all to one message
            raise RewriteError(self._scrub(describe_failure(exc))) from None
        return parse_response(response)


def describe_failure(exc: Exception) -> str:
    """A plain message for an SDK, HTTP or network failure (without the key: the caller scrubs it)."""
    code = getattr(exc, "code", None)
    status = getattr(exc, "status", "") or ""
    name = type(exc).__name__
    key_problem = code == 400 and any(word in str(exc).upper() for word in ("API_KEY", "API KEY"))
    if code in (401, 403) or key_problem:
        return (f"Gemini refused the API key (HTTP {code} {status}). Fix: check GEMINI_API_KEY or the key you "
                "pasted, or use the local rewriter.")
    if code == 429:
        return "Gemini quota or rate limit reached (HTTP 429). Fix: wait a minute, or use the local rewriter."
    if code == 404:
        return "Gemini does not know this model (HTTP 404). Fix: pick another model name."
    if isinstance(code, int) and code >= 500:
        return f"Gemini is unavailable (HTTP {code} {status}) after retries. Fix: try again later, or use local."
    if isinstance(code, int):
        return f"Gemini rejected the request (HTTP {code} {status}). Fix: shorten the text or try again."
    if "Timeout" in name:
        return "Gemini did not answer in time. Fix: try again, raise the timeout, or use the local rewriter."
    if "Connect" in name or isinstance(exc, OSError):
        return "could not reach Gemini (no network?). Fix: check the connection, or use the local rewriter."
    return f"the Gemini request failed ({name}). Fix: try again, or use the local rewriter."


def parse_response(response) -> list[str]:
    """Texts of the usable candidates; a blocked, safety-stopped or empty answer is a `RewriteError`."""
    feedback = getattr(response, "prompt_feedback", None)
    reason = getattr(feedback, "block_reason", None) if feedback is not None else None
    if reason:
        raise RewriteError(f"Gemini blocked this comment (block reason: {_name(reason)}). "
                           "Fix: use the local rewriter for this one.")
    texts, stops = [], []
    for candidate in getattr(response, "candidates", None) or []:
        parts = getattr(getattr(candidate, "content", None), "parts", None) or []
        text = "".join(getattr(part, "text", None) or "" for part in parts).strip()
        if text and text not in texts:
            texts.append(text)
        elif not text:
            stops.append(_name(getattr(candidate, "finish_reason", None)))
    if texts:
        return texts
    if "SAFETY" in stops or "PROHIBITED_CONTENT" in stops:
        raise RewriteError("Gemini stopped for safety reasons and returned no rewrite (finish reason SAFETY). "
                           "Fix: use the local rewriter for this one.")
    detail = f" (finish reason {', '.join(s for s in stops if s)})" if any(stops) else ""
    raise RewriteError(f"Gemini returned an empty answer{detail}. Fix: try again, or use the local rewriter.")


def _name(value) -> str:
    return str(getattr(value, "name", value) or "")
