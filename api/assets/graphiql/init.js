// Mounts GraphiQL (4.x UMD: globals React, ReactDOM, GraphiQL). Kept out of
// index.html so a CSP of script-src 'self' works without 'unsafe-inline'.
(function () {
  'use strict';
  var PLACEHOLDER = 'Bearer <paste a token from scps demo>';
  var root = document.getElementById('graphiql');
  // Full-height layout via CSSOM (not blocked by a strict style-src).
  document.documentElement.style.height = '100%';
  document.body.style.height = '100%';
  document.body.style.margin = '0';
  document.body.style.overflow = 'hidden';
  root.style.height = '100vh';
  root.textContent = '';

  var baseFetcher = GraphiQL.createFetcher({ url: '/graphql' });
  // Do not send the untouched placeholder as a real Authorization header.
  function fetcher(params, opts) {
    var h = opts && opts.headers;
    if (h && typeof h.Authorization === 'string' && h.Authorization.trim() === PLACEHOLDER) {
      var copy = {};
      for (var k in h) { if (k !== 'Authorization') copy[k] = h[k]; }
      opts = Object.assign({}, opts, { headers: copy });
    }
    return baseFetcher(params, opts);
  }

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      isHeadersEditorEnabled: true,
      defaultHeaders: JSON.stringify({ Authorization: PLACEHOLDER }, null, 2),
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false,
      defaultQuery:
        '# scps GraphQL API\n' +
        '# Paste a token from `scps demo` into the Authorization\n' +
        '# header below, then press the run button (Ctrl/Cmd+Enter).\n' +
        '# Open the Docs panel (top left) to browse the schema.\n' +
        '{\n' +
        '  viewer {\n' +
        '    person { displayName email }\n' +
        '    memberships { role school { name } }\n' +
        '  }\n' +
        '  schools(first: 20) { edges { node { name urn phase } } }\n' +
        '}\n'
    },
    // Replaces the default logo, which links out to GitHub.
    React.createElement(GraphiQL.Logo, null, 'scps GraphiQL'))
  );
})();
