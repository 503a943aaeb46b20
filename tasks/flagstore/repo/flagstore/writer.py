"""Writing flags in the flagstore text format.

The format is line based, one ``[name]`` section per flag::

    # flagstore v1

    [new-checkout]
    enabled = true
    rollout = 25
    segments = beta, staff
    description = New one-page checkout
"""

HEADER = "# flagstore v1"


def _flag_lines(flag):
    yield f"[{flag.name}]"
    yield f"enabled = {'true' if flag.enabled else 'false'}"
    yield f"rollout = {flag.rollout}"
    if flag.segments:
        yield f"segments = {', '.join(flag.segments)}"
    if flag.description:
        yield f"description = {flag.description}"


def dumps(flags):
    """Serialize an iterable of ``Flag`` objects, sorted by name so diffs stay small."""
    lines = [HEADER]
    for flag in sorted(flags, key=lambda f: f.name):
        lines.append("")
        lines.extend(_flag_lines(flag))
    return "\n".join(lines) + "\n"


def dump(flags, fp):
    fp.write(dumps(flags))
