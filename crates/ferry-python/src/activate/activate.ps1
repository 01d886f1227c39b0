# Enter this virtual environment: `. {{BIN_DIR}}/Activate.ps1` from PowerShell.
# Leave it again with `deactivate`. Written by ferry; re-created by `ferry venv`.

function global:deactivate([switch] $NonDestructive) {
    if (Test-Path variable:global:_FERRY_SAVED_PATH) {
        $env:PATH = $global:_FERRY_SAVED_PATH
        Remove-Variable -Name _FERRY_SAVED_PATH -Scope global
    }
    if (Test-Path variable:global:_FERRY_SAVED_PYTHONHOME) {
        $env:PYTHONHOME = $global:_FERRY_SAVED_PYTHONHOME
        Remove-Variable -Name _FERRY_SAVED_PYTHONHOME -Scope global
    }
    if (Test-Path function:global:_ferry_saved_prompt) {
        $function:global:prompt = $function:global:_ferry_saved_prompt
        Remove-Item function:global:_ferry_saved_prompt
    }
    Remove-Item env:VIRTUAL_ENV -ErrorAction SilentlyContinue
    Remove-Item env:VIRTUAL_ENV_PROMPT -ErrorAction SilentlyContinue
    if (-not $NonDestructive) {
        Remove-Item function:global:deactivate
    }
}

deactivate -NonDestructive

$env:VIRTUAL_ENV = {{VENV_PS}}
$env:VIRTUAL_ENV_PROMPT = {{PROMPT_PS}}
$global:_FERRY_SAVED_PATH = $env:PATH
$env:PATH = (Join-Path $env:VIRTUAL_ENV '{{BIN_NAME}}') + [System.IO.Path]::PathSeparator + $env:PATH

if (Test-Path env:PYTHONHOME) {
    $global:_FERRY_SAVED_PYTHONHOME = $env:PYTHONHOME
    Remove-Item env:PYTHONHOME
}

if (-not $env:VIRTUAL_ENV_DISABLE_PROMPT) {
    $function:global:_ferry_saved_prompt = $function:prompt
    function global:prompt {
        Write-Host -NoNewline "($env:VIRTUAL_ENV_PROMPT) "
        & $function:global:_ferry_saved_prompt
    }
}
