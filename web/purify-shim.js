// Debian's DOMPurify 2.4.1+dfsg+~2.4.0-2+deb12u1 (the CVE-2024-45801 backport) reads an undeclared
// `shadowNode` at the top of sanitize(), so every call with markup throws "shadowNode is not defined". The
// per-node nesting checks of the same patch live elsewhere and keep working; this stand-in (depth 0) lets the
// stray check pass. Harmless with a DOMPurify that does not have the bug.
globalThis.shadowNode ??= { __depth: 0 };
