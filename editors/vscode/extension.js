// The flowc extension: starts `flowc lsp` for `.flow` files. Highlighting comes from the
// TextMate grammar in syntaxes/; everything else (diagnostics, hover, go to definition,
// references, completion, outline, formatting, rename) from the language server.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function start(context) {
  const config = vscode.workspace.getConfiguration("flowc");
  const command = config.get("path") || "flowc";
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "flowc",
    "flowc",
    { run: server, debug: server },
    {
      documentSelector: [
        { scheme: "file", language: "flow" },
        { scheme: "untitled", language: "flow" },
      ],
      synchronize: {
        // Closed files that import an open one are re-checked when they change on disk, and
        // so are the Kubeflow component files that `import kfp "FILE"` reads.
        fileEvents: [
          vscode.workspace.createFileSystemWatcher("**/*.flow"),
          vscode.workspace.createFileSystemWatcher("**/*.{yaml,yml}"),
        ],
      },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("flowc.restartServer", async () => {
      if (client) {
        await client.stop();
      }
      await start(context);
    }),
  );
  await start(context);
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
