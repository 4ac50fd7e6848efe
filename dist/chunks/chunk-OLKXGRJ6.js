import{createRequire as __mfcRequire}from'node:module';const require=__mfcRequire(import.meta.url);
var o=class{values=new Set;listeners=[];add(t){if(!(typeof t!="string"||t.length<4)){for(let n of f(t))if(!this.values.has(n)){this.values.add(n);for(let e of this.listeners)e(n)}}}onAdd(t){this.listeners.push(t);for(let n of this.values)t(n)}redact(t){let n=t;for(let e of[...this.values].sort((i,r)=>r.length-i.length))n.includes(e)&&(n=n.split(e).join("***"));return n}};function f(s){let t=[s];if(s.includes(`
`))for(let i of s.split(`
`))i.trim().length>=16&&t.push(i.trim());let n=Buffer.from(s).toString("base64");n!==s&&t.push(n);let e=encodeURIComponent(s);return e!==s&&t.push(e),t}var l=new o;export{l as a};
