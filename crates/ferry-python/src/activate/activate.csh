# Enter this virtual environment: `source {{BIN_DIR}}/activate.csh` from csh or tcsh.
# Leave it again with `deactivate`. Written by ferry; re-created by `ferry venv`.

alias deactivate 'test $?_ferry_saved_path != 0 && setenv PATH "$_ferry_saved_path:q" && unset _ferry_saved_path; test $?_ferry_saved_prompt != 0 && set prompt="$_ferry_saved_prompt:q" && unset _ferry_saved_prompt; unsetenv VIRTUAL_ENV; unsetenv VIRTUAL_ENV_PROMPT; rehash; test "\!:*" != "nondestructive" && unalias deactivate'

deactivate nondestructive

setenv VIRTUAL_ENV {{VENV_CSH}}
setenv VIRTUAL_ENV_PROMPT {{PROMPT_CSH}}
set _ferry_saved_path="$PATH:q"
setenv PATH "${VIRTUAL_ENV}/{{BIN_NAME}}:${PATH}"

if (! $?VIRTUAL_ENV_DISABLE_PROMPT) then
    if ($?prompt) then
        set _ferry_saved_prompt="$prompt:q"
        set prompt="(${VIRTUAL_ENV_PROMPT}) $prompt:q"
    endif
endif

rehash
