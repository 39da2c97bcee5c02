// Renders /api/v1/openapi.json as a list of operations, grouped by tag. No outside resources.
"use strict";

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function schemaText(schema, components) {
  return JSON.stringify(schema, null, 2);
}

function parameterTable(parameters) {
  const table = element("table", {}, element("tr", {}, element("th", {}, "name"), element("th", {}, "in"),
    element("th", {}, "required"), element("th", {}, "description")));
  for (const parameter of parameters) {
    table.append(element("tr", {}, element("td", {}, element("code", {}, parameter.name)),
      element("td", {}, parameter.in), element("td", {}, parameter.required ? "yes" : ""),
      element("td", {}, parameter.description || (parameter.schema && parameter.schema.description) || "")));
  }
  return table;
}

function operationView(path, method, operation) {
  const heading = element("summary", {}, element("span", { class: "method " + method }, method.toUpperCase()),
    " ", element("code", {}, path), " — ", operation.summary || "");
  const body = element("details", {}, heading);
  if (operation.description) body.append(element("p", {}, operation.description));
  if (operation.parameters && operation.parameters.length) body.append(parameterTable(operation.parameters));
  if (operation.requestBody) {
    for (const [type, content] of Object.entries(operation.requestBody.content || {})) {
      body.append(element("p", {}, "Body ", element("code", {}, type)),
        element("pre", {}, schemaText(content.schema)));
    }
  }
  for (const [status, response] of Object.entries(operation.responses || {})) {
    body.append(element("p", {}, element("strong", {}, status), " ", response.description || ""));
  }
  return body;
}

async function show() {
  const main = document.getElementById("operations");
  const answer = await fetch("/api/v1/openapi.json");
  const document_ = await answer.json();
  const groups = new Map();
  for (const [path, methods] of Object.entries(document_.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const tag = (operation.tags || ["other"])[0];
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(operationView(path, method, operation));
    }
  }
  main.replaceChildren();
  for (const [tag, views] of groups) main.append(element("h2", {}, tag), ...views);
  const schemas = (document_.components || {}).schemas || {};
  const models = element("details", {}, element("summary", {}, "Schemas"));
  for (const [name, schema] of Object.entries(schemas)) {
    models.append(element("h3", {}, name), element("pre", {}, schemaText(schema)));
  }
  main.append(element("h2", {}, "schemas"), models);
}

show().catch((error) => {
  document.getElementById("operations").textContent = "Could not load openapi.json: " + error;
});
