/** File uploads of the panel, with their progress (not in client.ts: that one is shared with Node code). */
import { ApiError, parseJson, toApiError } from './client.ts';

/**
 * POSTs a file as it is (application/octet-stream), reporting the share sent (0 to 1) as it goes:
 * XMLHttpRequest, since fetch tells nothing of an upload's progress.
 */
export function upload<T>(path: string, file: Blob, onProgress: (sent: number) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-Mallard-Panel', '1');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () =>
      reject(
        new ApiError(0, 'network', 'The control panel cannot be reached. Is `mallard panel` still running?'),
      );
    xhr.onload = () => {
      const payload = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(payload as T);
      else reject(toApiError(xhr.status, payload, path));
    };
    xhr.send(file);
  });
}
