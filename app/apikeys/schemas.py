from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.apikeys.models import ApiKey
from app.core.auth import Role
from app.core.text import PrintableStr


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "OMS production", "role": "trader"}]},
    )

    name: PrintableStr = Field(min_length=1, max_length=200, examples=["OMS production"])
    role: Role = Field(examples=[Role.TRADER])


class ApiKeyOut(BaseModel):
    id: str
    name: str
    role: Role
    key_prefix: str = Field(description="The first characters of the key, to recognise it.")
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, api_key: ApiKey) -> "ApiKeyOut":
        return cls(
            id=api_key.id,
            name=api_key.name,
            role=Role(api_key.role),
            key_prefix=api_key.key_prefix,
            created_at=api_key.created_at,
            created_by=api_key.created_by,
            revoked_at=api_key.revoked_at,
        )


class IssuedApiKeyOut(ApiKeyOut):
    key: str = Field(description="The API key itself. It is shown this once and never again.")
