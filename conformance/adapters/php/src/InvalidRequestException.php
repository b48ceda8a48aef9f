<?php

declare(strict_types=1);

namespace CancelKit\Example;

/** The client refused the request locally and sent nothing: the message names the field and the rule. */
final class InvalidRequestException extends \InvalidArgumentException
{
}
