from searchengine.sidefiles import replace_side_file


def test_a_generations_file_replaces_the_others_of_its_kind_and_index_only(tmp_path):
    for name in ("_news_1.glued", "_news_2.glued.123.tmp", "_news_1.groups", "_other_1.glued", "_news_1.toc"):
        (tmp_path / name).write_bytes(b"old")
    replace_side_file(tmp_path, "news", 3, "glued", b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "_news_1.groups", "_news_1.toc", "_news_3.glued", "_other_1.glued"]
    assert (tmp_path / "_news_3.glued").read_bytes() == b"new"
    replace_side_file(tmp_path, "news", 4, "groups", None)  # nothing to keep: no file at all
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_news_1.toc", "_news_3.glued", "_other_1.glued"]
