# Enter this virtual environment: `source {{BIN_DIR}}/activate` from bash or zsh.
# Leave it again with `deactivate`. Written by ferry; re-created by `ferry venv`.

if [ "${BASH_SOURCE-}" = "$0" ]; then
    echo "This script changes your shell; source it instead of running it: source $0" >&2
    exit 33
fi

deactivate () {
    if [ -n "${_FERRY_SAVED_PATH+set}" ]; then
        PATH="$_FERRY_SAVED_PATH"
        export PATH
        unset _FERRY_SAVED_PATH
    fi
    if [ -n "${_FERRY_SAVED_PYTHONHOME+set}" ]; then
        PYTHONHOME="$_FERRY_SAVED_PYTHONHOME"
        export PYTHONHOME
        unset _FERRY_SAVED_PYTHONHOME
    fi
    if [ -n "${_FERRY_SAVED_PS1+set}" ]; then
        PS1="$_FERRY_SAVED_PS1"
        export PS1
        unset _FERRY_SAVED_PS1
    fi
    unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT
    hash -r 2>/dev/null
    if [ "${1-}" != "nondestructive" ]; then
        unset -f deactivate
    fi
}

# Leave any environment that is already active, keeping this function.
deactivate nondestructive

VIRTUAL_ENV={{VENV_SH}}
export VIRTUAL_ENV
VIRTUAL_ENV_PROMPT={{PROMPT_SH}}
export VIRTUAL_ENV_PROMPT

_FERRY_SAVED_PATH="$PATH"
PATH="$VIRTUAL_ENV/{{BIN_NAME}}:$PATH"
export PATH

if [ -n "${PYTHONHOME+set}" ]; then
    _FERRY_SAVED_PYTHONHOME="$PYTHONHOME"
    unset PYTHONHOME
fi

if [ -z "${VIRTUAL_ENV_DISABLE_PROMPT-}" ]; then
    _FERRY_SAVED_PS1="${PS1-}"
    PS1="(${VIRTUAL_ENV_PROMPT}) ${PS1-}"
    export PS1
fi

hash -r 2>/dev/null
