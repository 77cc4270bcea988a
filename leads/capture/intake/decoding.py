"""A form post's bytes read as text, in one place, for every intake that takes form posts.

Django reads a url-encoded body as UTF-8 or, when any byte is not, the whole body as
ISO-8859-1 (`QueryDict`: "José" becomes "JosÃ©"), refuses one that declares another charset,
and decodes a multipart field with U+FFFD for each bad byte (`MultiPartParser`): each time a
changed value would be stored. Here the body is parsed as ISO-8859-1, which maps every byte to
one character and so loses nothing, and each name and value is then decoded strictly, in the
charset the client named (UTF-8 when it named none).
"""

import codecs
from dataclasses import dataclass, field
from io import BytesIO
from urllib.parse import quote_from_bytes

from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser

LOSSLESS = "iso-8859-1"
WINDOWS_1252 = "windows-1252"
# The labels the WHATWG Encoding Standard reads as windows-1252, as browsers do: a page that
# says ISO-8859-1 is sent in windows-1252 (curly quotes, the euro sign in 0x80-0x9F).
_WINDOWS_1252_CODECS = {"cp1252", "latin-1", "iso8859-1", "ascii"}
# windows-1252 leaves five bytes undefined; WHATWG reads them as the C1 controls of ISO-8859-1.
_C1_AS_WINDOWS_1252 = {
    byte: bytes([byte]).decode("cp1252")
    for byte in range(0x80, 0xA0)
    if byte not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}


@dataclass(frozen=True)
class Misread:
    """A posted field whose bytes were not text in the charset; `raw` is them, %-escaped."""

    name: str
    raw: str


@dataclass(frozen=True)
class Posted:
    """The posted fields as text, and those whose bytes were not text in the charset.

    `undecodable`: read with U+FFFD in place of each bad byte (not to be stored);
    `fallen_back`: read in the fallback charset instead (stored, with the problem noted).
    """

    fields: QueryDict
    charset: str
    undecodable: list[Misread] = field(default_factory=list)
    fallen_back: list[Misread] = field(default_factory=list)


def charset_of(label: str | None) -> str | None:
    """The codec a charset label names (WHATWG's windows-1252 for the Latin-1 labels), or None
    for a label no codec has."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
    except LookupError:
        return None
    return WINDOWS_1252 if name in _WINDOWS_1252_CODECS else name


def decode(raw: bytes, charset: str) -> str:
    """`raw` in `charset`, strictly: a byte that is not text raises UnicodeDecodeError."""
    if charset == WINDOWS_1252:
        return raw.decode(LOSSLESS).translate(_C1_AS_WINDOWS_1252)  # never fails
    return raw.decode(charset)


def posted_fields(
    request: HttpRequest, *, charset: str | None = None, fallback: str | None = None
) -> Posted:
    """The url-encoded or multipart fields of `request`, each decoded in `charset` (else the
    charset its Content-Type names, else UTF-8). Bytes that are not text in it are read in
    `fallback` when there is one, else they are listed as undecodable.

    Raises what `request.POST` would: RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent,
    MultiPartParserError.
    """
    charset = charset or charset_of(request.encoding) or "utf-8"
    if request.content_type == "application/x-www-form-urlencoded":
        lossless = QueryDict(request.body, encoding=LOSSLESS)
    elif request.content_type == "multipart/form-data":
        lossless, _files = MultiPartParser(
            request.META, BytesIO(request.body), request.upload_handlers, LOSSLESS
        ).parse()
    else:
        return Posted(QueryDict(), charset)
    fields = QueryDict(mutable=True)
    undecodable: list[Misread] = []
    fallen_back: list[Misread] = []
    for name, values in lossless.lists():
        raw_name = name.encode(LOSSLESS)
        text_name, name_ok = _decoded(raw_name, charset, fallback)
        for value in values:
            raw_value = value.encode(LOSSLESS)
            text, value_ok = _decoded(raw_value, charset, fallback)
            fields.appendlist(text_name, text)
            if not (name_ok and value_ok):
                misread = Misread(text_name, quote_from_bytes(raw_value, safe=" @.-_,;:/"))
                (fallen_back if fallback else undecodable).append(misread)
    fields._mutable = False
    return Posted(fields, charset, undecodable, fallen_back)


def _decoded(raw: bytes, charset: str, fallback: str | None) -> tuple[str, bool]:
    try:
        return decode(raw, charset), True
    except UnicodeDecodeError:
        if fallback:
            return decode(raw, fallback), False
        return raw.decode(charset, "replace"), False
