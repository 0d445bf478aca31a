import { fileURLToPath } from "node:url";
import { packageFile } from "./package_files.js";

/**
 * The embedded default model: a torchvision DenseNet trained on Fashion-MNIST by
 * scripts/train_fashion_mnist.py, shipped in the package with its labels and preprocessing
 * in the safetensors metadata, and a dozen test-set samples beside it.
 */
export const DEFAULT_MODEL_NAME = "fashion-mnist-densenet";

/** Path of the default model's .safetensors file inside the installed package. */
export const DEFAULT_MODEL_PATH = fileURLToPath(packageFile("models/fashion-mnist-densenet.safetensors"));

/** Folder of the bundled sample images (PNG, named `<index>-<label>.png`). */
export const DEFAULT_SAMPLES_DIR = fileURLToPath(packageFile("models/samples/"));
