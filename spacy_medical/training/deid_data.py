"""Data for `medical_deid`: the marked-up evaluation notes and the PHI generator.

Hand-written notes are kept as marked-up text (`[[NAME:John Smith]]` for PHI, `{{Foley catheter}}`
for a clinical term that must survive) so that no character offset is ever typed by hand;
`markup_to_records` turns them into JSONL records with offsets.

The generator writes invented PHI (Faker, seeded) of many surface forms into real clinical texts
of the shared corpora, so that a model or the rules can be measured on text that looks like notes.
The same seed always gives the same files.
"""
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from ..errors import Errors

PHI_LABELS = ("NAME", "DATE", "AGE", "CONTACT", "ID", "LOCATION")
_MARK = re.compile(r"\[\[([A-Z]+):(.+?)\]\]|\{\{(.+?)\}\}")


def parse_markup(marked: str, where: str = "<text>") -> Tuple[str, List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Strip the markup of one note and compute character offsets.

    marked (str): Text with `[[LABEL:phi]]` and `{{term}}` marks.
    where (str): Names the note in errors.
    RETURNS (Tuple[str, List[Dict], List[Dict]]): The plain text, the PHI spans
        (start, end, label) and the clinical-term spans (start, end).
    """
    parts: List[str] = []
    phi: List[Dict[str, Any]] = []
    terms: List[Dict[str, Any]] = []
    length, last = 0, 0
    for match in _MARK.finditer(marked):
        before = marked[last : match.start()]
        parts.append(before)
        length += len(before)
        label, value, term = match.group(1), match.group(2), match.group(3)
        inner = value if label else term
        if label and label not in PHI_LABELS:
            raise ValueError(Errors.E003.format(path=where, label=label, known=", ".join(PHI_LABELS)))
        target = phi if label else terms
        target.append({"start": length, "end": length + len(inner), **({"label": label} if label else {})})
        parts.append(inner)
        length += len(inner)
        last = match.end()
    parts.append(marked[last:])
    text = "".join(parts)
    if "[[" in text or "{{" in text:
        raise ValueError(Errors.E550.format(where=where))
    return text, phi, terms


def markup_to_records(path: Union[str, Path]) -> List[Dict[str, Any]]:
    """Read a marked-up notes file: `#` comment lines, then notes each opened by `=== note_id`.

    path (Union[str, Path]): The marked-up file.
    RETURNS (List[Dict[str, Any]]): One record per note: note_id, text, phi, terms.
    """
    records: List[Dict[str, Any]] = []
    note_id, lines = None, []  # type: ignore[var-annotated]

    def flush() -> None:
        if note_id is not None:
            text, phi, terms = parse_markup("\n".join(lines).strip("\n"), where=f"{path}, note {note_id}")
            records.append({"note_id": note_id, "text": text, "phi": phi, "terms": terms})

    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("=== "):
            flush()
            note_id, lines = line[4:].strip(), []
        elif note_id is not None:
            lines.append(line)
        elif line.strip() and not line.startswith("#"):
            raise ValueError(Errors.E002.format(path=path, line=len(records) + 1, reason="text before the first '=== note_id'"))
    flush()
    return records


def read_phi_records(path: Union[str, Path]) -> List[Dict[str, Any]]:
    """Read a PHI JSONL file (note_id, text, phi, optional terms), checking every offset.

    path (Union[str, Path]): The JSONL file.
    RETURNS (List[Dict[str, Any]]): The records.
    """
    records = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(Errors.E002.format(path=path, line=number, reason=f"not JSON ({err.msg})")) from None
            if not isinstance(record.get("text"), str) or not isinstance(record.get("phi"), list):
                raise ValueError(Errors.E002.format(path=path, line=number, reason="needs a string 'text' and a list 'phi'"))
            for span in record["phi"] + record.get("terms", []):
                if not 0 <= span["start"] < span["end"] <= len(record["text"]):
                    raise ValueError(Errors.E004.format(path=path, line=number, start=span["start"],
                                                       end=span["end"], length=len(record["text"])))
                if "label" in span and span["label"] not in PHI_LABELS:
                    raise ValueError(Errors.E003.format(path=path, label=span["label"], known=", ".join(PHI_LABELS)))
            records.append(record)
    return records


def write_jsonl(records: Iterable[Dict[str, Any]], path: Union[str, Path]) -> int:
    """Write records as JSONL; RETURNS (int): the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


# --- the generator ------------------------------------------------------------------------
# Surface forms the generator writes. The hand-written set deliberately uses others (lower-case
# names, "3/4", "the 4th", "04-Mar", international numbers, MRNs with letters).
DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%B %Y", "%b %d")
HEADERS = (
    "Patient: {name}\nMRN: {mrn}\nDOB: {dob}\nDate of service: {date}\n",
    "NAME: {name_upper}    MRN# {mrn}\nVisit date: {date}\n",
    "{name} (MRN {mrn}), seen {date}\n",
    "Pt: {last}, {first}   Acct #: {account}\nAdmission date: {date}\n",
    "Patient name: {name}\nDate of birth: {dob}\nPhone: {phone}\n",
)
SENTENCES = (
    "Seen at {org} on {date}.",
    "Follow-up with Dr. {doctor_last} on {date2}.",
    "Her daughter {relative} can be reached at {phone}.",
    "Patient lives at {street}, {city}, {state} {zip}.",
    "Records requested from {org}; fax {phone}.",
    "He is a {old_age}-year-old man.",
    "The patient, aged {old_age}, was referred by Dr. {doctor} of {org}.",
    "Portal messages go to {email}.",
    "Wife {relative} was present at the visit on {date2}.",
    "SSN {ssn} on file.",
    "Discussed with {doctor}, MD, on {date2}.",
    "Previous admission to {org} in {month_year}.",
)
SIGNATURES = ("\n\n{doctor}, MD", "\n\nElectronically signed by {doctor} on {date}", "\n\n-- {doctor}, RN\nPager {pager}",
              "\n\nDictated by: Dr. {doctor}\nTranscribed: {date}")
ORG_SUFFIXES = ("Hospital", "Medical Center", "Clinic", "Family Practice", "Health Center", "Nursing Home")


def _placeholders(fake: Any, rng: Any) -> Dict[str, Tuple[str, str]]:
    """Placeholder -> (value, PHI label) for one generated note."""
    first, last = fake.first_name(), fake.last_name()
    when = fake.date_between(start_date="-15y", end_date="today")
    later = fake.date_between(start_date=when, end_date="+2y")
    dob = fake.date_of_birth(minimum_age=18, maximum_age=95)
    return {
        "name": (f"{first} {last}", "NAME"), "name_upper": (f"{last.upper()}, {first.upper()}", "NAME"),
        "first": (first, "NAME"), "last": (last, "NAME"),
        "doctor": (f"{fake.first_name()} {fake.last_name()}", "NAME"),
        "doctor_last": (fake.last_name(), "NAME"), "relative": (fake.first_name(), "NAME"),
        "mrn": (str(rng.randint(1_000_000, 99_999_999)), "ID"), "account": (str(rng.randint(10_000_000, 999_999_999)), "ID"),
        "ssn": (fake.ssn(), "ID"),
        "date": (when.strftime(rng.choice(DATE_FORMATS)), "DATE"), "date2": (later.strftime(rng.choice(DATE_FORMATS)), "DATE"),
        "dob": (dob.strftime(rng.choice(DATE_FORMATS[:4])), "DATE"), "month_year": (when.strftime("%B %Y"), "DATE"),
        "old_age": (str(rng.randint(90, 104)), "AGE"),
        "phone": (rng.choice([fake.numerify("(###) ###-####"), fake.numerify("###-###-####"), fake.numerify("###.###.####")]), "CONTACT"),
        "email": (fake.email(), "CONTACT"), "pager": (fake.numerify("####"), "CONTACT"),
        "org": (f"{fake.last_name()} {rng.choice(ORG_SUFFIXES)}", "LOCATION"), "street": (fake.street_address(), "LOCATION"),
        "city": (fake.city(), "LOCATION"), "state": (fake.state_abbr(include_territories=False), "LOCATION"),
        "zip": (fake.zipcode(), "LOCATION"),
    }


def _fill(template: str, values: Dict[str, Tuple[str, str]], offset: int) -> Tuple[str, List[Dict[str, Any]]]:
    """Fill `{placeholders}` and return the text with the PHI spans (offsets from `offset`)."""
    parts, spans, length, last = [], [], offset, 0
    for m in re.finditer(r"\{(\w+)\}", template):
        literal = template[last : m.start()]
        parts.append(literal)
        length += len(literal)
        value, label = values[m.group(1)]
        spans.append({"start": length, "end": length + len(value), "label": label})
        parts.append(value)
        length += len(value)
        last = m.end()
    parts.append(template[last:])
    return "".join(parts), spans


def _swap_known_names(text: str, names: List[str], values: Dict[str, Tuple[str, str]]) -> Tuple[str, List[Dict[str, Any]]]:
    """Replace the names ACI-Bench's metadata gives (patient first, family, doctor) by the note's
    invented ones, marked as NAME."""
    invented = [values["first"][0], values["last"][0], values["doctor"][0]]
    replacement = {n.strip().lower(): new for n, new in zip(names, invented) if n and n.strip()}
    if not replacement:
        return text, []
    names = [n.strip() for n in names if n and n.strip()]
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE)
    parts, spans, length, last = [], [], 0, 0
    for m in pattern.finditer(text):
        parts.append(text[last : m.start()])
        length += m.start() - last
        value = replacement[m.group(1).lower()]
        value = value.lower() if m.group(1).islower() else value
        spans.append({"start": length, "end": length + len(value), "label": "NAME"})
        parts.append(value)
        length += len(value)
        last = m.end()
    parts.append(text[last:])
    return "".join(parts), spans


def clinical_texts(corpora: Path, split: str) -> Iterable[Tuple[str, str, List[str]]]:
    """(source id, text, names to swap) from ACI-Bench notes, MTS-Dialog sections and MACCROBAT."""
    import csv

    aci = {"train": "train", "dev": "valid"}[split]
    meta = {row["encounter_id"]: row for row in csv.DictReader((corpora / "aci_bench" / f"{aci}_metadata.csv").open(encoding="utf-8"))}
    for row in csv.DictReader((corpora / "aci_bench" / f"{aci}.csv").open(encoding="utf-8")):
        info = meta.get(row["encounter_id"], {})
        names = [info.get("patient_firstname", ""), info.get("patient_familyname", ""), info.get("doctor_name", "")]
        yield f"aci:{row['encounter_id']}", row["note"], names
    mts = {"train": "MTS-Dialog-TrainingSet.csv", "dev": "MTS-Dialog-ValidationSet.csv"}[split]
    for row in csv.DictReader((corpora / "mts_dialog" / mts).open(encoding="utf-8")):
        yield f"mts:{row['ID']}", row["section_text"], []
    for path in sorted((corpora / "maccrobat" / "brat").glob("*.txt")):
        # MACCROBAT has no splits: every third case report goes to dev.
        if (int(path.stem) % 3 == 0) == (split == "dev"):
            yield f"maccrobat:{path.stem}", path.read_text(encoding="utf-8"), []


def generate_phi_notes(corpora: Path, split: str, seed: int = 0, limit: Optional[int] = None) -> List[Dict[str, Any]]:
    """Invented PHI written into real clinical texts: a header, sentences and a signature.

    corpora (Path): The shared corpora folder.
    split (str): "train" or "dev" (different source documents).
    seed (int): The same seed gives the same notes.
    limit (Optional[int]): At most this many notes.
    RETURNS (List[Dict[str, Any]]): Records with note_id, text and phi.
    """
    import random

    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    records = []
    for source, text, names in clinical_texts(corpora, split):
        if limit is not None and len(records) >= limit:
            break
        values = _placeholders(fake, rng)
        body, spans = _swap_known_names(text.strip(), names, values)
        header, header_spans = _fill(rng.choice(HEADERS), values, 0)
        out, phi, length, paragraph_start = [header], list(header_spans), len(header), 0
        for i, paragraph in enumerate(body.split("\n\n")):
            chunk = ("\n\n" if i else "") + paragraph
            shift = length + (2 if i else 0) - paragraph_start
            phi.extend({**s, "start": s["start"] + shift, "end": s["end"] + shift} for s in spans
                       if paragraph_start <= s["start"] and s["end"] <= paragraph_start + len(paragraph))
            paragraph_start += len(paragraph) + 2
            out.append(chunk)
            length += len(chunk)
            if rng.random() < 0.5:
                sentence, sentence_spans = _fill(" " + rng.choice(SENTENCES), values, length)
                out.append(sentence)
                phi.extend(sentence_spans)
                length += len(sentence)
        signature, signature_spans = _fill(rng.choice(SIGNATURES), values, length)
        out.append(signature)
        phi.extend(signature_spans)
        records.append({"note_id": f"{split}-{len(records):05d}", "source": source, "text": "".join(out), "phi": phi})
    return records


def records_to_docbin(records: Iterable[Dict[str, Any]], output: Union[str, Path]) -> int:
    """Write PHI records as a DocBin of `doc.ents` (labels of PHI_LABELS), the training data of a PHI `ner`.

    Spans are snapped outward to token boundaries; a span that overlaps one already set is an
    error (the generator never writes overlapping PHI), never a silent drop.

    records (Iterable[Dict[str, Any]]): PHI records (see `read_phi_records`).
    output (Union[str, Path]): The `.spacy` file.
    RETURNS (int): The number of docs written.
    """
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    docs = DocBin(store_user_data=False)
    for record in records:
        doc = nlp.make_doc(record["text"])
        spans = [doc.char_span(s["start"], s["end"], label=s["label"], alignment_mode="expand") for s in record["phi"]]
        try:
            doc.set_ents(sorted(spans, key=lambda span: span.start))
        except ValueError:
            raise ValueError(Errors.E557.format(where=record.get("note_id", "?"))) from None
        docs.add(doc)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    docs.to_disk(output)
    return len(docs)


def main() -> None:
    """`python -m spacy_medical.training.deid_data markup IN OUT` | `generate SPLIT OUT [--seed N] [--limit N]`
    | `docbin IN.jsonl OUT.spacy`."""
    import argparse

    from ..io.corpora import corpora_dir

    parser = argparse.ArgumentParser(prog="python -m spacy_medical.training.deid_data", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    markup = commands.add_parser("markup", help="marked-up notes -> PHI JSONL")
    markup.add_argument("input")
    markup.add_argument("output")
    generate = commands.add_parser("generate", help="invented PHI in the shared clinical texts -> PHI JSONL")
    generate.add_argument("split", choices=["train", "dev"])
    generate.add_argument("output")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--limit", type=int, default=None)
    docbin = commands.add_parser("docbin", help="PHI JSONL -> DocBin of doc.ents (training data of a PHI ner)")
    docbin.add_argument("input")
    docbin.add_argument("output")
    args = parser.parse_args()
    if args.command == "docbin":
        print(f"{records_to_docbin(read_phi_records(args.input), args.output)} docs -> {args.output}")
        return
    if args.command == "markup":
        records = markup_to_records(args.input)
    else:
        records = generate_phi_notes(corpora_dir(), args.split, seed=args.seed, limit=args.limit)
    print(f"{write_jsonl(records, args.output)} notes -> {args.output}")


if __name__ == "__main__":
    main()
