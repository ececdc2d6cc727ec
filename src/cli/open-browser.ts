import { spawn } from 'node:child_process';

/**
 * Opens `url` in the user's browser (`open` on macOS, `rundll32` on Windows, `xdg-open` elsewhere
 * when a display exists). Best effort: the link is always printed too. No shell is involved, so
 * the `&` in an authorize URL cannot be read as a command separator.
 */
export function canOpenBrowser(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(env['DISPLAY'] || env['WAYLAND_DISPLAY']);
}

export function openInBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // The printed link is the fallback.
  }
}
