# The Debian packages a host needs, in one place: the set-up scripts install or name
# exactly these, and a unit test holds the README's "Set up" section to the same lists.
# (Everything the sandboxes run comes from the pinned runtime root, not from the host:
# sandboxes/_runtime/runtime.json.)

# Node.js and npm start everything else (the `node` devDependency then brings Node 24).
host_node_packages="nodejs npm"
# The runner: bubblewrap (isolation), util-linux (prlimit, setpriv), mmdebstrap (builds the runtime root).
host_runner_packages="bubblewrap util-linux mmdebstrap"
# Only where the runtime is built without root (mmdebstrap --mode=unshare maps subordinate ids).
host_runner_packages_unprivileged="uidmap"
# The browser tests and the benchmark drive Debian's Chromium.
host_browser_packages="chromium"
