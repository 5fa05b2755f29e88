"""Shared fixtures of the test suite."""
import pytest

# A hostile export written byte by byte: BOM, CRLF, bare CR, embedded newlines, invalid UTF-8,
# NUL, too many/few fields, a missing id, a duplicate id, markup, control chars, non-English
# text and a single 200,000-character token. Row numbers and expected outcomes are in HOSTILE.
HOSTILE_ROWS = [
    # (raw bytes of the record, expected note_id, ok?, expected flag or None)
    (b'N1,"Patient denies chest pain.\r\nHas diabetes."\r\n', "N1", True, None),
    (b'N2,""\r\n', "N2", True, "empty_text"),
    (b'N3,"   \t "\r\n', "N3", True, "empty_text"),
    (b',"no id here, has asthma"\r\n', None, False, None),
    (b'N5,"bad bytes \xff\xfe here, asthma"\r', "N5", True, "invalid_utf8"),
    (b'N6,"nul \x00 byte, asthma"\n', "N6", True, "nul_bytes"),
    (b"N7,too,many,fields\n", "N7", False, None),
    (b"N8\n", "N8", False, None),
    (b'N1,"duplicate id, aspirin"\n', "N1", True, "duplicate_id"),
    (b'N10,"<html><body><p>Asthma</p></body></html>"\n', "N10", True, "html_markup"),
    (b'N11,"{\\rtf1\\ansi asthma}"\n', "N11", True, "rtf_markup"),
    (b'N12,"ctrl \x07\x1b chars, asthma"\n', "N12", True, "control_chars"),
    ('N13,"Le patient a de l\'asthme. 患者有哮喘"\n'.encode("utf8"), "N13", True, None),
    (b'N14,"' + b"x" * 200_000 + b'"\n', "N14", True, None),
]


def _write_hostile_csv(path):
    data = b"\xef\xbb\xbfnote_id,text\r\n" + b"".join(raw for raw, *_ in HOSTILE_ROWS)
    path.write_bytes(data)
    return path



@pytest.fixture
def hostile_csv():
    """A factory writing the hostile CSV export; RETURNS (Callable[[Path], Path]) with
    `.rows` = [(raw bytes, expected note_id, ok?, expected flag)] in row order."""
    _write_hostile_csv.rows = HOSTILE_ROWS
    return _write_hostile_csv


def _annotate(text, mentions):
    return text, [(text.index(m), text.index(m) + len(m), label) for m, label in mentions]


CLINICAL_TRAIN = [
    _annotate("Patient denies chest pain but has diabetes, takes metformin.", [("chest pain", "SYMPTOM"), ("diabetes", "DISEASE"), ("metformin", "DRUG")]),
    _annotate("Fever and cough since Monday; started amoxicillin for pneumonia.", [("Fever", "SYMPTOM"), ("cough", "SYMPTOM"), ("amoxicillin", "DRUG"), ("pneumonia", "DISEASE")]),
]


@pytest.fixture(scope="session")
def clinical_train():
    """Two invented sentences with (start, end, label) entities, for overfitting tests."""
    return CLINICAL_TRAIN
