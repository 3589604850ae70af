/**
 * The real @webcontainer/api behind the engine's `ContainerApi`. Imported only when a
 * Node sandbox is first run, so its code never weighs on a page that does not need it.
 * Licensing: StackBlitz's terms allow free use for open-source and personal projects;
 * production use elsewhere needs a commercial licence and an API key, which comes from the
 * build environment (PUBLIC_WEBCONTAINER_API_KEY), never from the repository.
 */
import type { ContainerApi } from './webcontainer.ts';

export function webContainerApi(apiKey: string | undefined): ContainerApi {
  return {
    async boot() {
      const { WebContainer, configureAPIKey } = await import('@webcontainer/api');
      if (apiKey) configureAPIKey(apiKey);
      const container = await WebContainer.boot({ coep: 'require-corp', workdirName: 'asynclab' });
      return {
        workdir: container.workdir,
        mount: (tree) => container.mount(tree),
        rm: (path) => container.fs.rm(path, { recursive: true, force: true }),
        // A wide terminal: the harness's lines are not wrapped by the pty.
        spawn: (command, args, options) => container.spawn(command, args, { ...options, terminal: { cols: 500, rows: 50 } }),
        teardown: () => container.teardown(),
      };
    },
    harness: async () => (await import('./webcontainer-harness.ts')).harness,
  };
}
