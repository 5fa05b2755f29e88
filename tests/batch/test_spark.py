"""The Spark engine (local[2]) produces the same records as the local engine."""
import pytest

pytest.importorskip("pyspark")


@pytest.mark.slow
def test_spark_local2_same_output_as_local(tmp_path, tiny_model, notes_csv, hostile_csv):
    from spacy_medical.batch import annotate

    for name, src in (("notes", notes_csv(tmp_path / "notes.csv", 200)), ("hostile", hostile_csv(tmp_path / "hostile.csv"))):
        local = annotate(src, tmp_path / f"{name}.local.jsonl", model=tiny_model, progress=False)
        spark = annotate(src, tmp_path / f"{name}.spark.jsonl", model=tiny_model, progress=False,
                         engine="spark", spark_master="local[2]")
        assert (spark.read, spark.annotated, spark.failed) == (local.read, local.annotated, local.failed)
        assert spark.read == local.annotated + local.failed > 0
        assert (tmp_path / f"{name}.spark.jsonl").read_bytes() == (tmp_path / f"{name}.local.jsonl").read_bytes()
        assert (tmp_path / f"{name}.spark.jsonl.errors.jsonl").read_bytes() == (tmp_path / f"{name}.local.jsonl.errors.jsonl").read_bytes()


@pytest.mark.slow
def test_spark_local_session_listens_on_loopback_only():
    from spacy_medical.batch.spark import get_session

    spark, created = get_session("local[1]")
    try:
        conf = spark.sparkContext.getConf()
        assert conf.get("spark.driver.bindAddress") == conf.get("spark.driver.host") == "127.0.0.1"
    finally:
        if created:
            spark.stop()
