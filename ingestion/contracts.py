"""Declarative vendor-export contracts: one YAML file per vendor format.

A contract says where a vendor's files are, how to read them, which vendor column feeds which
canonical field and how, and which columns form the vendor's record key. The code that applies
contracts (ingestion/normalize.py) is shared; a new vendor format is a new YAML file.

A contract with a mistake is rejected when loaded, with a message naming the file and field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ingestion import schema

CONTRACTS_DIR = Path(__file__).parent / "contracts"

FieldType = Literal["string", "email", "datetime", "date", "integer", "decimal", "url"]

# Canonical fields a contract may fill, per target table. Everything else in the target
# schema is derived by the normalizer (ids, person keys, classification, lineage).
TARGET_FIELDS: dict[str, dict[str, FieldType]] = {
    "touchpoints": {
        "email": "email",
        "anonymous_id": "string",
        "contact_id": "string",
        "occurred_at": "datetime",
        "touchpoint_type": "string",
        "channel": "string",
        "journey_stage": "string",
        "need": "string",
        "campaign_id": "string",
        "campaign_name": "string",
        "utm_source": "string",
        "utm_medium": "string",
        "utm_campaign": "string",
        "utm_content": "string",
        "utm_term": "string",
        "click_id": "string",
        "landing_url": "url",
        "revenue": "decimal",
        "currency": "string",
        "score": "decimal",
        "score_scale": "string",
        "referrer_email": "email",
        "referral_code": "string",
        "referred_by_code": "string",
    },
    "ad_spend": {
        "spend_date": "date",
        "campaign_id": "string",
        "campaign_name": "string",
        "channel": "string",
        "impressions": "integer",
        "clicks": "integer",
        "spend": "decimal",
        "currency": "string",
    },
}

# Fields every row of a target must end up with (after maps and defaults).
REQUIRED_FIELDS = {
    "touchpoints": ("occurred_at", "touchpoint_type"),
    "ad_spend": ("spend_date", "campaign_id", "impressions", "clicks", "spend", "currency", "channel"),
}

# Fields whose values must come from an enumeration in ingestion/mappings/journey.yaml.
ENUM_FIELDS = {
    "touchpoint_type": schema.touchpoint_types,
    "channel": schema.channels,
    "journey_stage": schema.stages,
    "need": schema.needs,
    "score_scale": lambda: list(schema.SCORE_SCALES),
}


class ContractError(ValueError):
    """A contract file that cannot be used; the message names the file and the field."""


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str | None = Field(None, description="Vendor column to read.")
    fallback_columns: list[str] = Field(default_factory=list, description="Vendor columns tried in order when `column` is empty.")
    value: str | None = Field(None, description="Constant value for every row.")
    format: str | None = Field(None, description="strptime format for dates and timestamps.")
    map: dict[str, str | None] | None = Field(None, description="Vendor code value -> canonical value (case-insensitive).")
    default: str | None = Field(None, description="Canonical value when the vendor value is empty.")
    optional: bool = Field(False, description="The vendor column may be missing from the file.")
    thousands_separator: str | None = None
    decimal_separator: str = "."

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        if (self.column is None) == (self.value is None):
            raise ValueError("give exactly one of 'column' (a vendor column) or 'value' (a constant)")
        return self


class FileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    glob: str = "*.csv"
    format: Literal["csv", "jsonl"] = "csv"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    skip_lines: int = Field(0, ge=0, description="Lines before the header (report titles).")
    skip_records_after_header: int = Field(0, ge=0, description="Records after the header that are not data (a second header row).")

    @field_validator("glob")
    @classmethod
    def _file_name_pattern(cls, v: str) -> str:
        if "/" in v or "\\" in v:
            raise ValueError(f"glob {v!r} must be a file-name pattern such as '*.csv': exports sit directly in <source>/<YYYY-MM-DD>/")
        return v

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        if len(v) != 1:
            raise ValueError("delimiter must be one character")
        return v


class UnpivotSpec(BaseModel):
    """A wide export (one column per question): each answered question becomes its own row."""

    model_config = ConfigDict(extra="forbid")

    answer_field: str = Field(description="Canonical field that receives each answer, e.g. score.")
    questions: dict[str, dict[str, str]] = Field(
        min_length=1, description="Vendor question column -> canonical constants for its answers (e.g. score_scale).")


ANSWER, QUESTION = "__answer", "__question"


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Also the landing-zone folder name.")
    family: Literal["ads", "email", "crm", "survey"]
    target: Literal["touchpoints", "ad_spend"] = "touchpoints"
    description: str
    vendor: str
    file: FileSpec = FileSpec()
    timezone: str = "UTC"
    record_key: list[str] = Field(min_length=1)
    fields: dict[str, FieldSpec]
    channel_default: str | None = None
    unpivot: UnpivotSpec | None = None
    contact_system: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$",
                                       description="System whose contact ids `contact_id` holds (e.g. hubspot).")
    path: Path | None = Field(None, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as 'Europe/Berlin')") from None
        return v

    @model_validator(mode="after")
    def _check_fields(self) -> Contract:
        allowed = TARGET_FIELDS[self.target]
        for name, spec in self.fields.items():
            where = f"fields.{name}"
            if name not in allowed:
                raise ValueError(f"{where}: unknown canonical field {name!r} for target {self.target!r}; known: {', '.join(allowed)}")
            ftype = allowed[name]
            if ftype in ("datetime", "date"):
                if spec.column is not None and not spec.format:
                    raise ValueError(f"{where}: a {ftype} column needs a 'format' (strptime, e.g. '%Y-%m-%d %H:%M:%S')")
                if spec.format:
                    _check_format(where, spec.format, ftype)
            enum = ENUM_FIELDS.get(name)
            if enum is not None:
                accepted = set(enum())
                produced = [spec.value, spec.default, *((spec.map or {}).values())]
                if spec.column is not None and spec.map is None:
                    produced = [spec.default]  # raw vendor values are checked row by row
                bad = sorted({v for v in produced if v is not None and v not in accepted})
                if bad:
                    raise ValueError(f"{where}: {', '.join(map(repr, bad))} not in accepted values {sorted(accepted)}")
        if self.unpivot is not None:
            self._check_unpivot(allowed)
        mapped = set(self.fields) | ({self.unpivot.answer_field} if self.unpivot else set())
        for name in REQUIRED_FIELDS[self.target]:
            if name not in mapped and not (name == "channel" and self.channel_default):
                raise ValueError(f"fields: required canonical field {name!r} is not mapped")
        if self.target == "touchpoints" and not ({"email", "anonymous_id", "contact_id"} & set(self.fields)):
            raise ValueError("fields: map 'email', 'anonymous_id' or 'contact_id' so rows can be tied to a person")
        if "contact_id" in self.fields and not self.contact_system:
            raise ValueError("contact_system: required when contact_id is mapped (whose contact ids are they?)")
        if self.channel_default is not None and self.channel_default not in schema.channels():
            raise ValueError(f"channel_default: {self.channel_default!r} not in accepted values {schema.channels()}")
        return self

    def _check_unpivot(self, allowed: dict[str, FieldType]) -> None:
        spec = self.unpivot
        if spec.answer_field not in allowed:
            raise ValueError(f"unpivot.answer_field: unknown canonical field {spec.answer_field!r}")
        if spec.answer_field in self.fields:
            raise ValueError(f"unpivot.answer_field: {spec.answer_field!r} is also mapped under fields")
        for question, consts in spec.questions.items():
            for name, value in consts.items():
                where = f"unpivot.questions[{question!r}].{name}"
                if name not in allowed or name in self.fields or name == spec.answer_field:
                    raise ValueError(f"{where}: not a canonical field this contract leaves free")
                enum = ENUM_FIELDS.get(name)
                if enum is not None and value not in enum():
                    raise ValueError(f"{where}: {value!r} not in accepted values {enum()}")

    def for_answers(self) -> Contract:
        """The contract as it applies to the long form: one row per answer (see normalize.py)."""
        if self.unpivot is None:
            return self
        consts = sorted({name for c in self.unpivot.questions.values() for name in c})
        fields = dict(self.fields)
        fields[self.unpivot.answer_field] = FieldSpec(column=ANSWER)
        fields.update({name: FieldSpec(column=f"__q_{name}") for name in consts})
        return self.model_copy(update={"fields": fields, "record_key": [*self.record_key, QUESTION], "unpivot": None})

    def vendor_columns(self) -> list[str]:
        cols = [c for s in self.fields.values() if s.column is not None for c in (s.column, *s.fallback_columns)]
        questions = list(self.unpivot.questions) if self.unpivot else []
        return list(dict.fromkeys([*cols, *questions, *self.record_key]))

    def required_vendor_columns(self) -> list[str]:
        optional = {c for s in self.fields.values() if s.optional for c in (s.column, *s.fallback_columns)}
        return [c for c in self.vendor_columns() if c not in optional or c in self.record_key]


def _check_format(where: str, fmt: str, ftype: str) -> None:
    """Round-trip a sample through Polars, the engine that will parse the vendor's values."""
    if not any(d in fmt for d in ("%Y", "%y", "%G", "%s")):
        raise ValueError(f"{where}: format {fmt!r} has no year directive (%Y, %y)")
    sample = pl.Series([datetime(2024, 3, 9, 14, 5, 7, 123000)]).dt.replace_time_zone("UTC")
    try:
        text = sample.dt.strftime(fmt)
        text.str.strptime(pl.Datetime("us"), fmt, strict=True)
    except Exception as exc:  # noqa: BLE001 - polars raises several types for bad formats
        first_line = str(exc).strip().splitlines()[0]
        raise ValueError(f"{where}: format {fmt!r} is not a valid date/time format ({first_line})") from None


def load_contract(path: Path) -> Contract:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContractError(f"{path}: cannot read contract: {exc}") from None
    if not isinstance(raw, dict):
        raise ContractError(f"{path}: a contract is a YAML mapping, got {type(raw).__name__}")
    try:
        contract = Contract.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            ": ".join(filter(None, [".".join(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, ")]))
            for err in exc.errors()
        )
        raise ContractError(f"{path}: invalid contract: {problems}") from None
    if contract.name != path.stem:
        raise ContractError(f"{path}: name: {contract.name!r} must equal the file name {path.stem!r}")
    contract.path = path
    return contract


def load_contracts(*dirs: Path) -> dict[str, Contract]:
    """All contracts in the built-in folder plus any extra folders (later folders may add, not replace)."""
    found: dict[str, Contract] = {}
    for folder in dirs or (CONTRACTS_DIR,):
        for path in sorted(Path(folder).glob("*.yaml")):
            contract = load_contract(path)
            if contract.name in found:
                raise ContractError(f"{path}: name: {contract.name!r} is already defined in {found[contract.name].path}")
            found[contract.name] = contract
    return found


_T = TypeVar("_T")


def per_contract(fn: Callable[..., _T]) -> Callable[..., _T]:
    """Memoize fn(contract, *hashable_args) per contract object: what a contract turns into (its
    Polars expressions, its long form) is built once per run, not once per file. Keyed by the
    object's identity, which the entry keeps alive, so a new contract (a reload, a test's) misses."""
    memo: dict[tuple, tuple[Contract, _T]] = {}

    @functools.wraps(fn)
    def wrapper(contract: Contract, *args):
        key = (id(contract), *args)
        hit = memo.get(key)
        if hit is not None and hit[0] is contract:
            return hit[1]
        if len(memo) > 1024:
            memo.clear()
        value = fn(contract, *args)
        memo[key] = (contract, value)
        return value

    return wrapper

