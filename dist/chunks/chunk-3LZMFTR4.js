import{createRequire as __mfcRequire}from'node:module';const require=__mfcRequire(import.meta.url);
import{a as r,b as i}from"./chunk-XQQB32AK.js";var o=i((p,e)=>{e.exports=r("node:net")});export{o as a};
