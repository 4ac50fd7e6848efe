import{createRequire as __mfcRequire}from'node:module';const require=__mfcRequire(import.meta.url);
import{a as r,c as i}from"./chunk-424CTFXR.js";var o=i((p,e)=>{e.exports=r("node:fs")});export{o as a};
