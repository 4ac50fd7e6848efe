import{createRequire as __mfcRequire}from'node:module';const require=__mfcRequire(import.meta.url);
import{a,b,c,d}from"./chunk-TJ3FWZ4E.js";import"./chunk-XQQB32AK.js";export{d as matches,c as selectorsOf,b as unquote,a as withBuiltIns};
