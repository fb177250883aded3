"""newsletter.files: the helpers every write goes through (see test_files_properties too)."""

from __future__ import annotations

import pytest

from newsletter.files import fsync_folder, write_atomic


def test_fsync_folder_is_a_no_op_where_a_folder_cannot_be_synced_unless_required(tmp_path):
    # One helper for the atomic writes (best effort) and the unsubscribe journal,
    # which answers "recorded" only once the folder is synced: the journal's own
    # copy raised, the files' one did not.
    fsync_folder(tmp_path)
    fsync_folder(tmp_path, required=True)
    fsync_folder(tmp_path / "gone")
    with pytest.raises(FileNotFoundError):
        fsync_folder(tmp_path / "gone", required=True)
    (tmp_path / "file").write_text("x")
    fsync_folder(tmp_path / "file")
    with pytest.raises(NotADirectoryError):
        fsync_folder(tmp_path / "file", required=True)


def test_write_atomic_replaces_a_file_unless_told_it_must_be_new(tmp_path):
    path = tmp_path / "item.md"
    write_atomic(path, "first")
    write_atomic(path, "second")
    assert path.read_text() == "second"
    with pytest.raises(FileExistsError):
        write_atomic(path, "third", replace=False)
    write_atomic(tmp_path / "new.md", "fourth", replace=False)
    assert (path.read_text(), (tmp_path / "new.md").read_text()) == ("second", "fourth")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["item.md", "new.md"]  # no temp left
