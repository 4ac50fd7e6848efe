import{createRequire as __mfcRequire}from'node:module';const require=__mfcRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-N35FPGTS.js";import"./chunk-XQQB32AK.js";export{e as matches,c as selectorsOf,b as unquote,a as withBuiltIns,d as withLabelFilters};
