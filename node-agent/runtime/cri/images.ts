// Images through the CRI ImageService, with Kubernetes' pull policies and pull secrets passed
// as AuthConfig.
import type { AuthConfig, Image } from '../../../proto/gen/runtime/v1/api.js';
import { RuntimeError, type ImageAuth } from '../runtime.js';
import { criError, type CriClient } from './client.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** The local image for a reference, undefined when absent. */
export async function imageStatus(c: CriClient, image: string): Promise<Image | undefined> {
  try {
    return (await c.img('imageStatus', { image: { image, annotations: {}, userSpecifiedImage: image }, verbose: false })).image;
  } catch (e) {
    throw criError(e, 'ImageInspectError', `image ${image}: status`);
  }
}

export async function ensureImage(c: CriClient, image: string, policy: PullPolicy, auth?: ImageAuth): Promise<string> {
  if (!image) throw new RuntimeError('InvalidImageName', 'image: must not be empty');
  if (policy !== 'Always') {
    const present = await imageStatus(c, image);
    if (present) return present.id;
    if (policy === 'Never') {
      throw new RuntimeError('ErrImageNeverPull', `image ${image} is not present on the node and imagePullPolicy is Never`);
    }
  }
  const authConfig: AuthConfig | undefined = auth
    ? {
        username: auth.username ?? '',
        password: auth.password ?? '',
        auth: auth.auth ?? '',
        serverAddress: auth.serverAddress ?? '',
        identityToken: auth.identityToken ?? '',
        registryToken: auth.registryToken ?? '',
      }
    : undefined;
  try {
    // Pulls of big images take long; the deadline only guards against a hung runtime.
    const res = await c.img('pullImage', { image: { image, annotations: {}, userSpecifiedImage: image }, auth: authConfig }, 600_000);
    return res.imageRef;
  } catch (e) {
    throw criError(e, 'ErrImagePull', `pull image ${image}`);
  }
}

export async function removeImage(c: CriClient, image: string): Promise<void> {
  try {
    await c.img('removeImage', { image: { image, annotations: {}, userSpecifiedImage: image } });
  } catch (e) {
    throw criError(e, 'ImageRemoveError', `remove image ${image}`);
  }
}

export async function listImages(c: CriClient): Promise<Image[]> {
  try {
    return (await c.img('listImages', {})).images;
  } catch (e) {
    throw criError(e, 'ImageListError', 'list images');
  }
}
