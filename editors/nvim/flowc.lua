-- flowc for Neovim's built-in LSP client.
--
-- Put this file in your config (for example as `~/.config/nvim/plugin/flowc.lua`), or paste
-- its contents into `init.lua`. `flowc` must be on the PATH (or change `cmd`).
--
-- It gives `.flow` files the `flow` filetype and starts `flowc lsp` for them: diagnostics as
-- you type, hover (K), go to definition (CTRL-] or gd with your mappings), references,
-- completion (CTRL-X CTRL-O, or your completion plugin), document symbols, formatting
-- (`vim.lsp.buf.format()`) and rename (`vim.lsp.buf.rename()`).

vim.filetype.add({ extension = { flow = "flow" } })

local config = {
  name = "flowc",
  cmd = { "flowc", "lsp" },
  filetypes = { "flow" },
  -- The workspace root: closed files there that import an open file are checked too.
  root_markers = { ".git", "Cargo.toml" },
}

if vim.lsp.config and vim.lsp.enable then
  -- Neovim 0.11 and later.
  vim.lsp.config("flowc", config)
  vim.lsp.enable("flowc")
else
  -- Neovim 0.8 to 0.10.
  vim.api.nvim_create_autocmd("FileType", {
    pattern = "flow",
    callback = function(args)
      local root = vim.fs.dirname(vim.fs.find(config.root_markers, {
        upward = true,
        path = vim.api.nvim_buf_get_name(args.buf),
      })[1])
      vim.lsp.start({
        name = config.name,
        cmd = config.cmd,
        root_dir = root or vim.fn.getcwd(),
      })
    end,
  })
end

-- Highlighting without a tree-sitter grammar: Vim's syntax for the keywords.
vim.api.nvim_create_autocmd("FileType", {
  pattern = "flow",
  callback = function()
    vim.bo.commentstring = "// %s"
    vim.bo.shiftwidth = 2
    vim.bo.expandtab = true
    vim.cmd([[
      syntax keyword flowDecl import as schema extends secret config volume build profile step builtin pipeline
      syntax keyword flowKeyword if else for in after with check output finally defaults and or not
      syntax keyword flowConstant true false none
      syntax keyword flowType Str Int Float Bool Date File Dir Model Json Metrics Table List Columns Column
      syntax keyword flowProperty image run python use cache resources retries timeout env mount node_selector toleration network
      syntax keyword flowContextual on off ttl auto backoff factor max within at schedule timezone parallel concurrency history starting_deadline k8s key param k8s_configmap k8s_pvc kfp
      syntax region flowString start=/"/ skip=/\\"/ end=/"/ oneline
      syntax match flowComment "//.*$"
      syntax region flowComment start="/\*" end="\*/"
      highlight default link flowDecl Structure
      highlight default link flowKeyword Keyword
      highlight default link flowConstant Constant
      highlight default link flowType Type
      highlight default link flowProperty Statement
      highlight default link flowContextual Keyword
      highlight default link flowString String
      highlight default link flowComment Comment
    ]])
  end,
})
