from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
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
    __slots__ = ("key", "ready", "modified", "missing", "message")
    KEY_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    key: str
    ready: bool
    modified: bool
    missing: bool
    message: str
    def __init__(self, key: _Optional[str] = ..., ready: _Optional[bool] = ..., modified: _Optional[bool] = ..., missing: _Optional[bool] = ..., message: _Optional[str] = ...) -> None: ...

class BundleFile(_message.Message):
    __slots__ = ("path", "content")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    path: str
    content: bytes
    def __init__(self, path: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...
