"""Speaker lines and turns of dialogue transcripts: one definition shared by every component.

A transcript line starts with a speaker tag, "[doctor]" (ACI-Bench) or "Doctor:" (MTS-Dialog).
`medical_sentences` starts a sentence at such a line, `medical_sections` classifies windows of
turns, `medical_summarizer` chooses turns and strips their tags, and the dialogue classifier's
training reads the same turns, so they all use `SPEAKER` and `find_turns` from here.
"""
import re
from typing import Dict, List, Tuple

from spacy.tokens import Doc

# Speaker tag at the start of a line: "[doctor]", "[patient_guest]", "Doctor:", "Patient:", ...
SPEAKER = re.compile(
    r"^[ \t]*(?:\[(?P<bracket>[a-z_]+)\]|(?P<colon>doctor|patient|dr|pt|nurse|clinician|provider"
    r"|physician|guest_family|guest_clinician|family)[ \t]*:)[ \t]*",
    re.I | re.M,
)

# MTS-Dialog's 20 section headers -> the package's categories. FAM/SOCHX merges family and
# social history in MTS-Dialog; most of its examples are social history, so it maps there.
MTS_TO_SECTION: Dict[str, str] = {
    "CC": "chief_complaint",
    "GENHX": "history_of_present_illness",
    "PASTMEDICALHX": "past_medical_history",
    "PASTSURGICAL": "past_surgical_history",
    "FAM/SOCHX": "social_history",
    "MEDICATIONS": "medications",
    "ALLERGY": "allergies",
    "ROS": "review_of_systems",
    "EXAM": "physical_exam",
    "ASSESSMENT": "assessment",
    "DIAGNOSIS": "assessment",
    "PLAN": "plan",
    "DISPOSITION": "plan",
    "EDCOURSE": "hospital_course",
    "IMMUNIZATIONS": "past_medical_history",
    "GYNHX": "past_medical_history",
    "OTHER_HISTORY": "past_medical_history",
    "IMAGING": "results",
    "LABS": "results",
    "PROCEDURES": "procedures",
}


def is_speaker_line(line: str) -> bool:
    """Whether a line (text without its newline) opens a speaker turn."""
    return SPEAKER.match(line) is not None


def find_turns(text: str) -> List[Tuple[int, int, int, str]]:
    """Find the speaker turns of a transcript.

    text (str): The document text.
    RETURNS (List[Tuple[int, int, int, str]]): (turn start, content start, turn end, speaker) per
        turn; a turn runs from its speaker tag to the next tag (continuation lines included).
    """
    matches = list(SPEAKER.finditer(text))
    turns = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        while end > m.end() and text[end - 1].isspace():
            end -= 1
        speaker = (m.group("bracket") or m.group("colon")).lower()
        turns.append((m.start(), m.end(), end, speaker))
    return turns


def is_dialogue(text: str, min_share: float = 0.5) -> bool:
    """Whether most non-empty lines of the text start with a speaker tag."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return False
    tagged = sum(1 for line in lines if is_speaker_line(line))
    return tagged > 0 and tagged / len(lines) >= min_share


def strip_speakers(text: str) -> str:
    """The text on one line, speaker tags removed (how summaries quote a turn)."""
    return " ".join(SPEAKER.sub(" ", text).split())


def turn_words(doc: Doc, start_char: int, end_char: int) -> List[str]:
    """Lower-cased non-space token texts of a character range (the classifier's input)."""
    span = doc.char_span(start_char, end_char, alignment_mode="expand")
    if span is None:
        return []
    return [t.lower_ for t in span if not t.is_space]
