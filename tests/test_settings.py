"""TOUCHLINE_LANDING: a local folder or an s3:// prefix; the AWS variables Touchline reads itself."""

from pathlib import Path

import pytest

from touchline.settings import ObjectStore, SettingsError, load


@pytest.mark.parametrize(("value", "url", "bucket", "prefix"), [
    ("s3://exports", "s3://exports", "exports", ""),
    ("s3://exports/", "s3://exports", "exports", ""),
    ("s3://exports/acme/landing/", "s3://exports/acme/landing", "exports", "acme/landing"),
])
def test_an_s3_url_is_an_object_store_landing_zone(value, url, bucket, prefix):
    landing = load({"TOUCHLINE_LANDING": value, "TOUCHLINE_DATA": "/srv/touchline"}).landing
    assert landing == ObjectStore(url, endpoint_url=None, max_attempts=5, retry_mode="standard")
    assert (landing.bucket, landing.prefix) == (bucket, prefix)


def test_the_endpoint_and_retries_come_from_the_standard_aws_variables():
    env = {"TOUCHLINE_LANDING": "s3://exports/x", "AWS_ENDPOINT_URL": "http://minio:9000", "AWS_MAX_ATTEMPTS": "8",
           "AWS_RETRY_MODE": "adaptive"}
    assert load(env).landing == ObjectStore("s3://exports/x", "http://minio:9000", 8, "adaptive")
    # the S3-specific endpoint wins over the general one, as in botocore
    assert load(env | {"AWS_ENDPOINT_URL_S3": "http://s3.local"}).landing.endpoint_url == "http://s3.local"


def test_a_local_landing_zone_is_a_path_and_is_created_by_ensure_dirs(tmp_path):
    s = load({"TOUCHLINE_DATA": str(tmp_path)})
    assert s.landing == s.local_landing == tmp_path / "landing"
    s.ensure_dirs()
    assert s.landing.is_dir()
    remote = load({"TOUCHLINE_DATA": str(tmp_path / "other"), "TOUCHLINE_LANDING": "s3://exports"})
    assert remote.local_landing is None
    remote.ensure_dirs()  # the lake and the warehouse folder, nothing for the landing zone
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["dagster", "lake", "warehouse"]


@pytest.mark.parametrize(("env", "message"), [
    ({"TOUCHLINE_LANDING": "gs://exports"}, "TOUCHLINE_LANDING='gs://exports': gs:// is not supported; use a local folder or s3://bucket/prefix"),
    ({"TOUCHLINE_LANDING": "s3:///exports"}, "TOUCHLINE_LANDING='s3:///exports': no bucket; expected s3://bucket/prefix"),
    ({"TOUCHLINE_LANDING": "s3://exports/a//b"}, "empty, '.' or '..' segment in the prefix"),
    ({"TOUCHLINE_LANDING": "s3://exports", "AWS_MAX_ATTEMPTS": "0"}, "AWS_MAX_ATTEMPTS='0' must be at least 1"),
    ({"TOUCHLINE_LANDING": "s3://exports", "AWS_MAX_ATTEMPTS": "many"}, "AWS_MAX_ATTEMPTS='many' is not a whole number"),
    ({"TOUCHLINE_LANDING": "s3://exports", "AWS_RETRY_MODE": "eager"}, "AWS_RETRY_MODE='eager' must be one of standard, adaptive, legacy"),
    ({"TOUCHLINE_LAKE": "s3://lake"}, "TOUCHLINE_LAKE='s3://lake': must be a local folder (only TOUCHLINE_LANDING may be an s3:// URL)"),
])
def test_a_landing_url_or_aws_variable_touchline_cannot_use_is_named(env, message):
    with pytest.raises(SettingsError, match=__import__("re").escape(message)):
        load(env)


def test_aws_variables_do_not_matter_for_a_local_landing_zone():
    assert load({"TOUCHLINE_LANDING": "/srv/exports", "AWS_MAX_ATTEMPTS": "many"}).landing == Path("/srv/exports")
