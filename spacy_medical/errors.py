"""Error and warning messages with codes, in the style of spacy/errors.py.

Messages name files, lines, rows and fields, never note text: the text is patient data.
"""


class Errors:
    E001 = "Corpus folder not found: {path}. Set SPACY_MEDICAL_CORPORA to the folder holding the corpora (see README)."
    E002 = "{path}, line {line}: {reason}"
    E003 = "{path}: unknown label '{label}'. Known: {known}."
    E004 = "{path}, line {line}: offsets {start}-{end} are outside the text (length {length})."
    E005 = "{path}: document {doc_id} appears in more than one split."
    E006 = "Unknown corpus '{name}'. Choose one of: {names}."


class Warnings:
    W001 = "{path}: {count} span(s) skipped ({reason}); see the conversion report for counts per reason."
