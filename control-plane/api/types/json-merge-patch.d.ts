// json-merge-patch ships no types; this is the one function Skiff uses (RFC 7386 apply).
declare module 'json-merge-patch' {
  const mergePatch: { apply(target: unknown, patch: unknown): unknown };
  export default mergePatch;
}
