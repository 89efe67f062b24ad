#!/usr/bin/env node
// Validates Kubernetes objects against the Kubernetes OpenAPI schemas, offline.
//
//   node validate.js FILE.yaml...     (or `-` / nothing: read stdin)
//
// Every YAML document (multi-document streams such as `kubectl kustomize`
// output) must be an object whose apiVersion/kind is a built-in Kubernetes
// type; it is checked with the schema compiled into the pinned
// `kubernetes-models` package (types, formats, enums, required fields).
// Prints one line per object ("ok Kind/name" or the errors naming the field
// path) and exits 1 if any object is invalid, 0 otherwise.
// Limitation, as in the OpenAPI schemas themselves: unknown extra fields are
// not rejected.
"use strict";

const fs = require("fs");
const YAML = require("yaml");

function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" ||
      !/^[A-Za-z0-9.\-]+(\/[A-Za-z0-9]+)?$/.test(apiVersion) || !/^[A-Za-z0-9]+$/.test(kind)) {
    return null;
  }
  try {
    const mod = require(`kubernetes-models/${apiVersion}/${kind}`);
    return mod[kind] || null;
  } catch (e) {
    if (e.code === "MODULE_NOT_FOUND") return null;
    throw e;
  }
}

function describe(err) {
  if (err && Array.isArray(err.errors)) {
    return err.errors.map((e) => `${e.instancePath || "/"} ${e.message || e.keyword}` +
      (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : "")).join("; ");
  }
  return String(err && err.message ? err.message : err);
}

function validateText(text, source) {
  let failures = 0;
  const docs = YAML.parseAllDocuments(text);
  docs.forEach((doc, index) => {
    const where = `${source} document ${index + 1}`;
    if (doc.errors.length) {
      console.log(`INVALID ${where}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      failures++;
      return;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) return;  // empty document
    if (typeof obj !== "object" || Array.isArray(obj)) {
      console.log(`INVALID ${where}: not a Kubernetes object`);
      failures++;
      return;
    }
    const name = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
    const Model = modelFor(obj.apiVersion, obj.kind);
    if (!Model) {
      console.log(`INVALID ${where} ${name}: no Kubernetes schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
      failures++;
      return;
    }
    try {
      new Model(obj).validate();
      console.log(`ok ${obj.apiVersion} ${name}`);
    } catch (err) {
      console.log(`INVALID ${where} ${name}: ${describe(err)}`);
      failures++;
    }
  });
  return failures;
}

function main(argv) {
  const files = argv.length ? argv : ["-"];
  let failures = 0;
  for (const f of files) {
    let text;
    try {
      text = fs.readFileSync(f === "-" ? 0 : f, "utf8");
    } catch (e) {
      console.log(`INVALID ${f}: cannot read: ${e.message}`);
      failures++;
      continue;
    }
    failures += validateText(text, f === "-" ? "stdin" : f);
  }
  return failures ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
