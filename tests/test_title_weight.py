"""A word in the title weighs more than the same word repeated in a body."""

from .conftest import indexed, stems


def test_a_headline_remembered_finds_its_article_before_one_repeating_its_words(tmp_path):
    filler = [(f"f{n}", f"Dépêche {n}", "Le conseil municipal a voté le budget ce soir.") for n in range(8)]
    padding = " ".join(["Les riverains attendent des réponses."] * 4)
    with indexed(tmp_path, [
        *filler,
        ("headline", "Incendie chez Lubrizol",
         f"Les pompiers sont intervenus dans la nuit. {padding} Le site a brûlé toute la nuit."),
        ("repeats", "Dépêche du soir", f"{padding} " + "L'incendie de Lubrizol a repris. " * 3),
    ]) as engine:
        assert stems(engine.search("incendie Lubrizol"))[:2] == ["headline", "repeats"]
