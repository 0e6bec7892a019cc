-- Headless Neovim (0.7+) as a real editor for v6lint's language server.
-- Opens the file given on the command line, waits for v6lint's diagnostics, writes them as JSON
-- to $V6LINT_NVIM_OUT and quits. Neovim 0.7 has no vim.lsp.start: start_client + buf_attach_client.
local out = os.getenv("V6LINT_NVIM_OUT")
local root = os.getenv("V6LINT_NVIM_ROOT")
local python = os.getenv("V6LINT_PYTHON")

local function finish(payload)
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(payload))
  f:close()
  vim.cmd("qa!")
end

vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    local bufnr = vim.api.nvim_get_current_buf()
    local client_id = vim.lsp.start_client({
      name = "v6lint",
      cmd = { python, "-m", "v6lint", "server" },
      root_dir = root,
      workspace_folders = { { uri = vim.uri_from_fname(root), name = "workspace" } },
    })
    if not client_id then
      finish({ error = "could not start v6lint server" })
      return
    end
    vim.lsp.buf_attach_client(bufnr, client_id)
    local ok = vim.wait(20000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
    local found = {}
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      local code = d.code
      if d.user_data and d.user_data.lsp and d.user_data.lsp.code then code = d.user_data.lsp.code end
      table.insert(found, { lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
                            severity = d.severity, source = d.source, code = code, message = d.message })
    end
    finish({ waited = ok, diagnostics = found })
  end,
})
