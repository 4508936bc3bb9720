"""What every blueprint's views share: htmx-aware rendering and form parsing (thin views)."""

from flask import render_template, request
from jinja2_fragments.flask import render_block
from marshmallow import ValidationError

from webapp.core.formdata import translate_errors


def view_marked(app, endpoint: str | None, mark: str) -> bool:
    """Whether the view of `endpoint` carries the attribute `mark` set by a decorator (e.g.
    `reads_first` in core/database.py, `background` in auth/loaders.py)."""
    return bool(endpoint) and getattr(app.view_functions.get(endpoint), mark, False)


def is_htmx() -> bool:
    return request.headers.get("HX-Request") is not None


def render_page(template, block, status=200, **ctx):
    """The full page, or just `block` for an htmx request (Vary: HX-Request is set app-wide)."""
    if is_htmx():
        return render_block(template, block, **ctx), status
    return render_template(template, **ctx), status


def load_form(schema, data):
    """(values, {}) or (None, field errors in the user's language)."""
    try:
        return schema.load(data), {}
    except ValidationError as e:
        return None, translate_errors(e.messages)
