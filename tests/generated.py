"""French-looking articles made up for the format tests: no shared corpus needed.

Words follow a Zipf-like law, so a few terms occur in nearly every article
(posting lists of several blocks) and most in one or two (inlined postings);
some bodies are long (large position lists, frequencies in the hundreds);
titles repeat words; ledes, dates, sources and authors are sometimes missing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

_COMMON = ("le la les de des du un une et en à au pour dans sur par avec que qui ne pas plus "
           "est sont a été il elle ils on nous").split()
_WORDS = ("grève gouvernement réforme retraites syndicats manifestation président ministre assemblée "
          "élection élections député sénat budget impôts hôpital hôpitaux soignants école enseignants "
          "université étudiants police justice tribunal procès enquête victime incendie forêt chaleur "
          "été canicule pluie orage inondation agriculteurs récolte blé vin vignobles prix inflation "
          "salaires entreprise usine emplois chômage banque euro bourse marchés pétrole énergie nucléaire "
          "centrale électricité gaz climat émissions transport trains SNCF métro aéroport avion vols "
          "Kim Jong-un Poutine Macron Zelensky Biden Pékin Moscou Kiev Bruxelles Marseille Lyon Toulouse "
          "nord-coréen sud-africain franco-allemand l’agence d’après qu’il aujourd’hui "
          "football match équipe joueur entraîneur victoire défaite championnat coupe stade "
          "musée exposition peintre théâtre cinéma festival film roman écrivain prix Goncourt "
          "cœur œuvre naïf Noël Île-de-France côte plage montagne neige ski station village").split()


def _word(rng: random.Random) -> str:
    if rng.random() < 0.45:
        return rng.choice(_COMMON)
    # Zipf-like: index i drawn with probability ~ 1/(i+1)
    return _WORDS[min(int(rng.paretovariate(1.0)) - 1, len(_WORDS) - 1) if rng.random() < 0.5
                  else rng.randrange(len(_WORDS))]


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(_word(rng) for _ in range(words))
    return text[:1].upper() + text[1:] + rng.choice((".", ".", ".", " !", " ?", " :"))


def _text(rng: random.Random, words: int) -> str:
    parts = []
    while words > 0:
        n = min(words, rng.randint(4, 25))
        parts.append(_sentence(rng, n))
        words -= n
    return " ".join(parts)


def articles(count: int = 300, seed: int = 7) -> list[dict[str, str]]:
    """``count`` records in the JSON form newsearch reads (``id``, ``title``,
    ``body``, and sometimes ``lede``, ``date``, ``source``, ``author``, ``url``)."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        length = rng.choice((8, 40, 120, 300)) if i % 23 else rng.randint(2500, 6000)
        record = {"id": f"art-{i:04d}", "title": _sentence(rng, rng.randint(2, 12)).rstrip(".!?: "),
                  "body": _text(rng, length)}
        if i % 17 == 0:
            record["title"] = " ".join([record["title"].split()[0]] * 3)  # a repeated word
        if rng.random() < 0.7:
            record["lede"] = _text(rng, rng.randint(5, 30))
        if rng.random() < 0.75:
            day = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(1500))
            record["date"] = day.isoformat()
        if rng.random() < 0.5:
            record["source"] = rng.choice(("AFP", "Le Monde", "Libération", "Ouest-France"))
        if rng.random() < 0.3:
            record["author"] = rng.choice(("Jeanne Dupont", "Éric Martin", "Zoé Lefèvre"))
        if rng.random() < 0.3:
            record["url"] = f"https://example.org/{i}"
        records.append(record)
    return records


def index_twice(folder: Path, records: list[dict[str, str]], first: int, every: int, added: str) -> Path:
    """An index of ``records`` in two segments, as a collection that lives has: the first ``first``
    indexed, then every ``every``-th of them changed (``added`` to its body, so replaced, its old
    document deleted) and indexed again with the rest."""
    from searchengine import SearchEngine

    def write(path: Path, rows: list[dict[str, str]]) -> None:
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")

    start, rest = folder / "first.jsonl", folder / "second.jsonl"
    write(start, records[:first])
    with SearchEngine(folder / "ix") as engine:
        engine.index([start])
        write(rest, records[first:])
        for record in records[:first:every]:
            record["body"] += added
        write(start, records[:first])
        engine.index([start, rest])
    return folder / "ix"
