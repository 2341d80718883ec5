"""The forms a page shows, read from its HTML as a browser would: each field's name, kind and value."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

TEXT_INPUTS = ("text", "email", "password", "search", "tel", "url", "")


@dataclass
class Field:
    name: str
    kind: str  # the input's type, "select" or "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False
    selected: bool = False

    @property
    def is_text(self) -> bool:
        return self.kind in TEXT_INPUTS or self.kind == "textarea"


@dataclass
class Form:
    action: str
    method: str
    fields: list[Field] = field(default_factory=list)

    def data(self) -> dict[str, str]:
        """What the browser sends as the form stands: values, checked boxes, each select's chosen option."""
        sent: dict[str, str] = {}
        for one in self.fields:
            if one.kind in ("checkbox", "radio") and not one.checked:
                continue
            if one.kind in ("submit", "button", "file"):
                continue
            if one.kind == "select":
                # With nothing selected, a browser sends the first option.
                sent[one.name] = one.value if one.selected else (one.options[0] if one.options else "")
            else:
                sent.setdefault(one.name, one.value)
        return sent

    def text_fields(self) -> list[str]:
        return [one.name for one in self.fields if one.is_text and one.name != "csrf_token"]


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(found.get("action", ""), found.get("method", "get").lower()))
        elif not self.forms or "name" not in found:
            if tag == "option" and self._select is not None:
                self._option(found)
            return
        elif tag == "input":
            kind = found.get("type", "text").lower()
            self.forms[-1].fields.append(Field(found["name"], kind, found.get("value", ""), checked="checked" in found))
        elif tag == "select":
            self._select = Field(found["name"], "select")
            self.forms[-1].fields.append(self._select)
        elif tag == "textarea":
            self._textarea = Field(found["name"], "textarea")
            self.forms[-1].fields.append(self._textarea)

    def _option(self, found: dict[str, str]) -> None:
        assert self._select is not None
        self._select.options.append(found.get("value", ""))
        if "selected" in found:
            self._select.value = found.get("value", "")
            self._select.selected = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def post_forms(html: str) -> list[Form]:
    return [form for form in forms(html) if form.method == "post" and not form.action.endswith("/sign-out")]
