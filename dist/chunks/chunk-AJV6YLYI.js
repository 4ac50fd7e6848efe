import{createRequire as __mfcRequire}from'node:module';const require=__mfcRequire(import.meta.url);
var n=class extends Error{name="MfcError";hint;constructor(t,r){super(t),r!==void 0&&(this.hint=r)}},s=class extends n{name="SettingsError";input;constructor(t,r,i){super(`Input '${t}' is invalid: ${r}${/[.!?]$/.test(r)?"":"."}`,i),this.input=t}};export{n as a,s as b};
