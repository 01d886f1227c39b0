# Enter this virtual environment: `source {{BIN_DIR}}/activate.fish` from fish.
# Leave it again with `deactivate`. Written by ferry; re-created by `ferry venv`.

function deactivate --description 'Leave the virtual environment'
    if set -q _FERRY_SAVED_PATH
        set -gx PATH $_FERRY_SAVED_PATH
        set -e _FERRY_SAVED_PATH
    end
    if set -q _FERRY_SAVED_PYTHONHOME
        set -gx PYTHONHOME $_FERRY_SAVED_PYTHONHOME
        set -e _FERRY_SAVED_PYTHONHOME
    end
    if functions -q _ferry_saved_fish_prompt
        functions -e fish_prompt
        functions -c _ferry_saved_fish_prompt fish_prompt
        functions -e _ferry_saved_fish_prompt
    end
    set -e VIRTUAL_ENV
    set -e VIRTUAL_ENV_PROMPT
    if test "$argv[1]" != nondestructive
        functions -e deactivate
    end
end

deactivate nondestructive

set -gx VIRTUAL_ENV {{VENV_FISH}}
set -gx VIRTUAL_ENV_PROMPT {{PROMPT_FISH}}
set -gx _FERRY_SAVED_PATH $PATH
set -gx PATH "$VIRTUAL_ENV/{{BIN_NAME}}" $PATH

if set -q PYTHONHOME
    set -gx _FERRY_SAVED_PYTHONHOME $PYTHONHOME
    set -e PYTHONHOME
end

if test -z "$VIRTUAL_ENV_DISABLE_PROMPT"; and functions -q fish_prompt
    functions -c fish_prompt _ferry_saved_fish_prompt
    function fish_prompt
        set -l last_status $status
        printf '(%s) ' $VIRTUAL_ENV_PROMPT
        echo "exit $last_status" | source
        _ferry_saved_fish_prompt
    end
end
