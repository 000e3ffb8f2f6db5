from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Resource(_message.Message):
    __slots__ = ("key", "hash", "manifest")
    KEY_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    key: str
    hash: str
    manifest: bytes
    def __init__(self, key: _Optional[str] = ..., hash: _Optional[str] = ..., manifest: _Optional[bytes] = ...) -> None: ...

class ResourceState(_message.Message):
    __slots__ = ("key", "ready", "modified", "missing", "message", "drift_paths", "drift_diff", "api_version")
    KEY_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DRIFT_PATHS_FIELD_NUMBER: _ClassVar[int]
    DRIFT_DIFF_FIELD_NUMBER: _ClassVar[int]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    key: str
    ready: bool
    modified: bool
    missing: bool
    message: str
    drift_paths: _containers.RepeatedScalarFieldContainer[str]
    drift_diff: str
    api_version: str
    def __init__(self, key: _Optional[str] = ..., ready: _Optional[bool] = ..., modified: _Optional[bool] = ..., missing: _Optional[bool] = ..., message: _Optional[str] = ..., drift_paths: _Optional[_Iterable[str]] = ..., drift_diff: _Optional[str] = ..., api_version: _Optional[str] = ...) -> None: ...

class BundleFile(_message.Message):
    __slots__ = ("path", "content")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    path: str
    content: bytes
    def __init__(self, path: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...
