<?php

declare(strict_types=1);

require __DIR__ . '/../src/autoload.php';
require __DIR__ . '/KitGateway.php';

/** The repository's root, where `schema/` and `conformance/keys/` live. */
const REPO_ROOT = __DIR__ . '/../../../..';
