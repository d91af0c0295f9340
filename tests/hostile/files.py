"""Small valid import files and a row count of every table, shared by the hostile
input tests: each bad file is a valid one with one thing broken."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps

POLIS_COMMENTS = (
    "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
    "1500000000000,x,0,0,1,0,1,Plain comment\n"
    "1500000001000,x,1,1,1,0,1,Another comment\n"
)
POLIS_VOTES = (
    "timestamp,datetime,comment-id,voter-id,vote\n"
    "1500000003000,x,0,0,1\n"
    "1500000004000,x,1,0,-1\n"
    "1500000005000,x,1,2,0\n"
)
POLIS_MATRIX = (
    "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n"
    "0,0,1,2,1,1,1,-1\n"
    "2,,0,1,0,0,,0\n"
)
COMPARISONS = (
    "item,principle,prompt,response_a,response_b,label,annotator,group,reason\n"
    "q1,Choose the kinder answer.,How are you?,Fine thanks,Go away,a,ann1,G1,kind\n"
    "q1,Choose the kinder answer.,How are you?,Fine thanks,Go away,b,ann2,G1,\n"
)
APPS = ("accounts", "api", "cards", "deliberation", "judging")


def polis_folder(folder: Path, **files: str | bytes | None) -> Path:
    """A valid export; keyword arguments (comments, votes, participants_votes,
    summary) replace a file, or drop it as None."""
    contents: dict[str, str | bytes | None] = {
        "comments.csv": POLIS_COMMENTS,
        "votes.csv": POLIS_VOTES,
        "participants-votes.csv": POLIS_MATRIX,
    }
    contents.update({k.replace("_", "-") + ".csv": v for k, v in files.items()})
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        if content is not None:
            data = content.encode() if isinstance(content, str) else content
            (folder / name).write_bytes(data)
    return folder


def row_counts() -> dict[str, int]:
    """Rows in every table of the workbench's own apps."""
    return {
        model._meta.label: model._default_manager.count()
        for label in APPS
        for model in apps.get_app_config(label).get_models()
    }
