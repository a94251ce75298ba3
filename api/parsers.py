"""The API's JSON parser: orjson, which refuses what Python's json module lets through.

A lone surrogate ("\\ud800") is not text: Python's json decodes it into a str that PostgreSQL
and the UTF-8 renderer then refuse with a 500; orjson refuses it while parsing. Deep nesting
makes json.loads (and any repr of the result) hit Python's recursion limit; here a body nested
deeper than MAX_DEPTH is refused. Both are a 400 that says why.
"""

import orjson
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32  # the API's bodies are three levels deep; this leaves room, not recursion


def _too_deep(data: object) -> bool:
    """True when lists or objects nest more than MAX_DEPTH levels (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """application/json bodies, parsed strictly (UTF-8 only, no NaN, no lone surrogates)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            message = str(exc)
            if "surrogate" in message or "UTF-8" in message:
                raise ParseError(
                    "The body has text that is not valid Unicode (a lone surrogate such as "
                    "\\ud800, or bytes that are not UTF-8)."
                ) from None
            if "depth" in message or "recursion" in message.lower():
                raise ParseError(f"The body is nested more than {MAX_DEPTH} levels deep.") from None
            raise ParseError(f"The body is not valid JSON: {message}") from None
        if _too_deep(data):
            raise ParseError(f"The body is nested more than {MAX_DEPTH} levels deep.")
        return data
