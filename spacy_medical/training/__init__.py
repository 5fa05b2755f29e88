"""Training code: `spacy-medical train` with a resumable checkpoint, and the dialogue section
classifier of `medical_sections`."""
