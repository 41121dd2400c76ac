"""`dutyroom act merge / unmerge` from the shell on a demo database (issue 11)."""

from __future__ import annotations


def test_dutyroom_act_merge_and_unmerge_from_the_shell(tmp_path):
    import sqlite3

    from tests.cli.test_cli import _allow_as, run

    path = tmp_path / "demo.db"
    url = f"sqlite:///{path}"
    assert run("--db", url, "demo", "--days", "1", cwd=tmp_path).returncode == 0
    with sqlite3.connect(path) as conn:
        dup, master = (r for (r,) in conn.execute(
            "SELECT ref FROM work_order WHERE closed_at IS NULL ORDER BY id LIMIT 2"))
    site = _allow_as(tmp_path)

    def act(*words: str):
        return run("--config", site, "--as", "duty", "--db", url, "act", *words, cwd=tmp_path)

    res = act("merge", dup, master)
    assert res.returncode == 0, res.stderr
    res = act("note", dup, "called back")
    assert res.returncode == 0, res.stderr
    notice, done = res.stdout.strip().splitlines()
    assert notice == f"{dup} was merged into {master}; acting on the master"
    assert done.startswith(f"{master}:")
    res = act("unmerge", dup, "a different flat")
    assert res.returncode == 0 and res.stdout.startswith(f"{dup}:"), res.stderr
    res = act("unmerge", dup, "again")
    assert res.returncode == 1 and res.stderr.strip().endswith(f"{dup} is not merged into anything")
    assert len(res.stderr.strip().splitlines()) == 1
    assert run("--db", url, "verify", cwd=tmp_path).returncode == 0
