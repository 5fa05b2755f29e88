"""Entity labels, assertion qualifiers and section names used across the package."""

DISEASE = "DISEASE"
SYMPTOM = "SYMPTOM"
DRUG = "DRUG"
ENTITY_LABELS = (DISEASE, SYMPTOM, DRUG)

# ConText qualifiers, each a boolean Span extension set by `medical_context`.
ASSERTIONS = ("negated", "uncertain", "historical", "hypothetical", "family")

# Normalized note sections (set by `medical_sections`).
SECTIONS = (
    "chief_complaint",
    "history_of_present_illness",
    "past_medical_history",
    "past_surgical_history",
    "medications",
    "allergies",
    "family_history",
    "social_history",
    "review_of_systems",
    "physical_exam",
    "results",
    "assessment_and_plan",
    "assessment",
    "plan",
    "instructions",
    "vital_signs",
    "procedures",
    "hospital_course",
    "other",
)
