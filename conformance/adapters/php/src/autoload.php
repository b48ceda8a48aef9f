<?php

declare(strict_types=1);

/*
 * The client's autoloader: what Composer's PSR-4 map would do for `CancelKit\Example\`, so
 * that nothing but Debian's PHP packages is needed. An SDK that ships through Composer
 * drops this file and declares `"autoload": {"psr-4": {"CancelKit\\Example\\": "src/"}}`.
 */
spl_autoload_register(static function (string $class): void {
    $prefix = 'CancelKit\\Example\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
